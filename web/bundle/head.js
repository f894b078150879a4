// dist/callswap.js: the Emscripten glue, web/core.js, web/dom.js, web/consent.js and
// web/sdk.js in one closure, so the page gains exactly one global (window.callswap).
// `define` is shadowed so the glue never registers itself with a page's AMD loader.
(function (define) {
