// Filled in when scripts/bundle-sdk.mjs bundles dist/callswap.js (esbuild defines): the
// project version from CMakeLists.txt, and the SRI values (sha384) of the callswap.wasm and
// callswap-decide.wasm built with it. Left unbundled (Node tests), they read as a development
// build without a hash.
/* global CALLSWAP_VERSION, CALLSWAP_WASM_INTEGRITY, CALLSWAP_DECIDE_INTEGRITY */
export const VERSION = typeof CALLSWAP_VERSION === 'string' ? CALLSWAP_VERSION : 'dev';
export const WASM_INTEGRITY = typeof CALLSWAP_WASM_INTEGRITY === 'string' ? CALLSWAP_WASM_INTEGRITY : '';
export const DECIDE_INTEGRITY = typeof CALLSWAP_DECIDE_INTEGRITY === 'string' ? CALLSWAP_DECIDE_INTEGRITY : '';
