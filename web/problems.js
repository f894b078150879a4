// What a site owner got wrong, said once in the console with the cause and the fix, and
// kept for callswap.state(). Visitors never see these: the page keeps its own numbers.
// No DOM here (tested under Node).

const FIXES = {
  no_site: () => 'the script tag names no site: add data-site="<site id>" to it (or ?site=<site id> to its URL), or set window.callswapConfig',
  unknown_site: ({ site, server }) => `the server ${server} does not know the site "${site}" (HTTP 404): check data-site against the site ids in the server's config`,
  config_http: ({ url, status }) => `the site config at ${url} answered HTTP ${status}: check data-site, data-config and the server`,
  config_unreachable: ({ url }) => `the site config at ${url} could not be fetched (server down, wrong data-server/data-config, or blocked by the page's Content-Security-Policy connect-src)`,
  config_not_json: ({ url }) => `the site config at ${url} is not JSON: data-config must point to the site config file`,
  invalid_config: ({ errors }) => `the site config is invalid: ${errors.join('; ')}. Fix these fields (docs/config.md)`,
  wasm_blocked_by_csp: () => 'the page\'s Content-Security-Policy does not allow WebAssembly: add \'wasm-unsafe-eval\' to its script-src',
  wasm_unreachable: ({ url }) => `${url} could not be fetched: serve callswap.wasm and callswap-decide.wasm next to callswap.js, and allow its origin in the Content-Security-Policy connect-src`,
  wasm_tampered: ({ url, integrity }) => `${url} is not the file this callswap.js was built with (expected ${integrity}): it was changed or comes from another release; serve the wasm files of the same build`,
  origin_not_allowed: ({ origin, site, server }) => `the server ${server} refused requests from ${origin}: add "${origin}" to allowed_origins of site "${site}" in the server config`,
  start_failed: ({ detail }) => `could not start: ${detail}`,
};

/** The problems that stop the SDK (the page keeps its own numbers); the others leave it running. */
export const FATAL = new Set(['no_site', 'unknown_site', 'config_http', 'config_unreachable', 'config_not_json',
  'invalid_config', 'wasm_blocked_by_csp', 'wasm_unreachable', 'wasm_tampered', 'start_failed']);

/** The one console line for a problem: "callswap: <cause and fix>". */
export function describe(code, details = {}) {
  const fix = FIXES[code];
  return `callswap: ${fix ? fix(details) : code}`;
}

/**
 * Remembers problems and logs each code once. `console` is the page's console (or any object
 * with warn/error); tampering is an error, the rest are warnings.
 */
export function createProblems(console) {
  const seen = new Map();
  return {
    report(code, details) {
      if (seen.has(code)) return seen.get(code);
      const message = describe(code, details);
      seen.set(code, message);
      if (console) (code === 'wasm_tampered' ? console.error : console.warn).call(console, message);
      return message;
    },
    /** The first problem, as {error: code, message}, or null. */
    first() {
      for (const [code, message] of seen) return { error: code, message };
      return null;
    },
  };
}

/** Names what a failed WebAssembly compile means: CSP blocks it, or the file is broken. */
export function classifyCompileError(error) {
  const text = String(error?.message || error);
  return /Content.Security.Policy|wasm-unsafe-eval|unsafe-eval/i.test(text) ? 'wasm_blocked_by_csp' : 'start_failed';
}
