// Fetching what the SDK needs before the first swap: the site config and the wasm core.
// Each failure is turned into the site owner's problem (problems.js) that names its fix.

import { WASM_INTEGRITY } from './build-info.js';
import { classifyCompileError } from './problems.js';
import { instantiateCore } from './wasm-runtime.js';

// Requests before consent carry nothing about the visitor: no cookies, no referrer.
export const ANONYMOUS = { credentials: 'omit', referrerPolicy: 'no-referrer' };

/** An Error that is a site owner's problem: `code` and `details` for problems.report(). */
export function problem(code, details = {}) {
  const error = new Error(code);
  error.code = code;
  error.details = details;
  return error;
}

/** The site config: inline (window.callswapConfig), from data-config, or from the server. */
export function loadConfig(options, baseUrl) {
  if (options.inlineConfig) return Promise.resolve(options.inlineConfig);
  if (!options.configUrl && !options.siteId) return Promise.reject(problem('no_site'));
  const url = options.configUrl ? new URL(options.configUrl, baseUrl).href
    : `${options.serverUrl}/v1/sites/${encodeURIComponent(options.siteId)}/config`;
  return fetch(url, ANONYMOUS).then((response) => {
    if (response.status === 404 && !options.configUrl) throw problem('unknown_site', { site: options.siteId, server: options.serverUrl });
    if (!response.ok) throw problem('config_http', { url, status: response.status });
    return response.json().catch(() => {
      throw problem('config_not_json', { url });
    });
  }, () => {
    throw problem('config_unreachable', { url });
  });
}

/**
 * The wasm core, fetched without credentials or referrer (with its SRI hash when the build
 * recorded one) and compiled while it streams in. Called first thing at script start, so
 * the fetch runs alongside the config's. `mark(name)` records the phases for the benchmark.
 */
export function loadModule(scriptUrl, mark) {
  const url = new URL('callswap.wasm', scriptUrl).href;
  const compiled = fetchWasm(url).then((response) => {
    const streaming = typeof WebAssembly.compileStreaming === 'function' &&
      (response.headers.get('Content-Type') || '').startsWith('application/wasm');
    return (streaming ? WebAssembly.compileStreaming(response)
      : response.arrayBuffer().then((bytes) => WebAssembly.compile(bytes)))
      .catch((error) => {
        throw problem(classifyCompileError(error), { detail: String(error?.message) });
      });
  });
  return instantiateCore((imports) => compiled.then((module) => WebAssembly.instantiate(module, imports))
    .then((instance) => ({ instance })))
    .then((module) => {
      mark('wasm');
      return module;
    });
}

// A fetch refused by its integrity check and one that never reached the file look the same
// (a TypeError); fetching again without the hash tells a changed file from a missing one.
function fetchWasm(url) {
  const unreachable = () => problem('wasm_unreachable', { url });
  const checked = WASM_INTEGRITY ? { ...ANONYMOUS, integrity: WASM_INTEGRITY } : ANONYMOUS;
  return fetch(url, checked).then((response) => {
    if (!response.ok) throw unreachable();
    return response;
  }, () => {
    if (!WASM_INTEGRITY) throw unreachable();
    return fetch(url, ANONYMOUS).then((response) => {
      throw response.ok ? problem('wasm_tampered', { url, integrity: WASM_INTEGRITY }) : unreachable();
    }, () => {
      throw unreachable();
    });
  });
}
