// The callswap browser SDK as an ES module. The SDK itself is dist/callswap.js, the same
// file the script tag loads; this module decides when it starts and with which site, and
// passes its public API (window.callswap, docs/sdk.md) through.

export const version = '0.1.0';

let started = null;
const consentBeforeStart = [];

const sdk = () => (typeof window !== 'undefined' ? window.callswap : undefined);

/**
 * Starts callswap on this page once; later calls return the same promise. Resolves with the
 * state once the page's numbers are swapped (or left alone, mode "off", when it cannot start).
 * @param {{site: string, server?: string, assets?: string}} options
 */
export function start(options) {
  if (started) return started;
  if (typeof window === 'undefined' || typeof document === 'undefined') {
    return Promise.reject(new Error('callswap.start: callswap runs in a browser'));
  }
  const { site, server, assets } = options || {};
  if (typeof site !== 'string' || site === '') return Promise.reject(new TypeError('callswap.start: options.site is required'));
  const serverUrl = new URL(server || window.location.origin, document.baseURI).href.replace(/\/+$/, '');
  const assetsUrl = new URL(assets || `${serverUrl}/`, document.baseURI);
  if (!assetsUrl.pathname.endsWith('/')) assetsUrl.pathname += '/';
  // The SDK reads its site and server from its script element and loads callswap.wasm from
  // next to that script's URL. Bundled, it has no script element of its own: this one stands
  // in for it. Its type is not JavaScript, so the browser neither fetches nor runs it.
  const settings = document.createElement('script');
  settings.type = 'application/x-callswap-settings';
  settings.setAttribute('data-site', site);
  settings.setAttribute('data-server', serverUrl);
  settings.setAttribute('src', new URL('callswap.js', assetsUrl).href);
  document.head.appendChild(settings);
  // After a task, so that no script of the page is running: the SDK then finds the element
  // above rather than the bundle's own script element (document.currentScript).
  started = new Promise((resolve) => setTimeout(resolve, 0))
    .then(() => import('./dist/callswap.js'))
    .then(() => {
      const api = sdk();
      for (const choice of consentBeforeStart.splice(0)) api.consent[choice]();
      return api.ready;
    });
  return started;
}

/** Swaps the numbers under `root` (default: the whole page) and watches the page again; returns how many were swapped. */
export function swap(root) {
  const api = sdk();
  return api ? api.rescan(root) : 0;
}

/** Restores the page's own numbers exactly, and stops swapping until swap(). */
export function revert() {
  const api = sdk();
  if (api) api.revert();
}

/** What callswap shows now: {mode, source, number[, session][, error]}. Before start(): mode "off". */
export function state() {
  const api = sdk();
  return api ? api.state() : { mode: 'off', source: null, number: null };
}

/** Consent given or withdrawn through the site's own banner (the "manual" signal of the site config). */
export const consent = {
  grant() {
    const api = sdk();
    if (api) api.consent.grant();
    else consentBeforeStart.push('grant');
  },
  deny() {
    const api = sdk();
    if (api) api.consent.deny();
    else consentBeforeStart.push('deny');
  },
};

export default { version, start, swap, revert, state, consent };
