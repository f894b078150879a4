// Fetching what the SDK needs: before the first swap the site config and callswap.wasm, and
// only when a source has a pool (or the config is inline) callswap-decide.wasm.
// Each failure is turned into the site owner's problem (problems.js) that names its fix.

import { DECIDE_INTEGRITY, WASM_INTEGRITY } from './build-info.js';
import { classifyCompileError } from './problems.js';
import { DECIDE_NAMES, instantiateCore } from './wasm-runtime.js';

// Requests before consent carry nothing about the visitor: no cookies, no referrer.
export const ANONYMOUS = { credentials: 'omit', referrerPolicy: 'no-referrer' };

/** An Error that is a site owner's problem: `code` and `details` for problems.report(). */
export function problem(code, details = {}) {
  const error = new Error(code);
  error.code = code;
  error.details = details;
  return error;
}

/**
 * The site config, as {compact, antiFlicker} when it comes from the server (validated there,
 * in the compact form callswap.wasm reads), or as {json, antiFlicker} when it is inline
 * (window.callswapConfig) or a file (data-config): the second module validates those.
 */
export function loadConfig(options, baseUrl) {
  const fromJson = (json) => ({ json, antiFlicker: json?.swap?.anti_flicker });
  if (options.inlineConfig) return Promise.resolve(fromJson(options.inlineConfig));
  if (!options.configUrl && !options.siteId) return Promise.reject(problem('no_site'));
  const url = options.configUrl ? new URL(options.configUrl, baseUrl).href
    : `${options.serverUrl}/v1/sites/${encodeURIComponent(options.siteId)}/config/compact`;
  return fetch(url, ANONYMOUS).then((response) => {
    if (response.status === 404 && !options.configUrl) throw problem('unknown_site', { site: options.siteId, server: options.serverUrl });
    if (!response.ok) throw problem('config_http', { url, status: response.status });
    return response.json().catch(() => {
      throw problem('config_not_json', { url });
    });
  }, () => {
    throw problem('config_unreachable', { url });
  }).then((body) => (options.configUrl ? fromJson(body) : { compact: body.compact, antiFlicker: body.anti_flicker }));
}

/**
 * The wasm core, fetched without credentials or referrer (with its SRI hash when the build
 * recorded one) and compiled while it streams in. Called first thing at script start, so
 * the fetch runs alongside the config's. `mark(name)` records the phases for the benchmark.
 */
export function loadModule(scriptUrl, mark) {
  return loadWasm(new URL('callswap.wasm', scriptUrl).href, WASM_INTEGRITY, undefined).then((module) => {
    mark('wasm');
    return module;
  });
}

/** callswap-decide.wasm: consent, the session machine and the config validator. */
export function loadDecideModule(scriptUrl) {
  return loadWasm(new URL('callswap-decide.wasm', scriptUrl).href, DECIDE_INTEGRITY, DECIDE_NAMES);
}

function loadWasm(url, integrity, names) {
  const compiled = fetchWasm(url, integrity).then((response) => {
    const streaming = typeof WebAssembly.compileStreaming === 'function' &&
      (response.headers.get('Content-Type') || '').startsWith('application/wasm');
    return (streaming ? WebAssembly.compileStreaming(response)
      : response.arrayBuffer().then((bytes) => WebAssembly.compile(bytes)))
      .catch((error) => {
        throw problem(classifyCompileError(error), { detail: String(error?.message) });
      });
  });
  return instantiateCore((imports) => compiled.then((module) => WebAssembly.instantiate(module, imports))
    .then((instance) => ({ instance })), names);
}

// A fetch refused by its integrity check and one that never reached the file look the same
// (a TypeError); fetching again without the hash tells a changed file from a missing one.
function fetchWasm(url, integrity) {
  const unreachable = () => problem('wasm_unreachable', { url });
  const checked = integrity ? { ...ANONYMOUS, integrity } : ANONYMOUS;
  return fetch(url, checked).then((response) => {
    if (!response.ok) throw unreachable();
    return response;
  }, () => {
    if (!integrity) throw unreachable();
    return fetch(url, ANONYMOUS).then((response) => {
      throw response.ok ? problem('wasm_tampered', { url, integrity }) : unreachable();
    }, () => {
      throw unreachable();
    });
  });
}
