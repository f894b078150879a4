// The browser SDK: one script tag. It loads the site config and the wasm core, swaps the
// page's numbers to the visit's static number at once; then, only when a source has a pool,
// it loads the second module (consent and the session machine), follows consent, and only
// with consent and a source that has a pool runs the session (session.js).
// Every decision is the core's; these modules only move events in and actions out.
// Public API: window.callswap (docs/sdk.md).

import { VERSION } from './build-info.js';
import { carriedSource, carryOnLinks } from './carry.js';
import { watchConsent } from './consent.js';
import { compactConfig, loadDecisions, loadSite } from './core.js';
import { loadConfig, loadDecideModule, loadModule } from './loader.js';
import { readOptions } from './options.js';
import { createProblems, FATAL } from './problems.js';
import { createSessionDriver } from './session.js';
import { createSwapper, hideUntilSwapped } from './swap.js';

function startCallswap(window) {
  const document = window.document;
  const started = performance.now();
  const marks = { script: started };
  const mark = (name) => {
    marks[name] = performance.now();
  };
  const script = document.currentScript || document.querySelector('script[src*="callswap"][data-site],script[src*="callswap.js"]');
  const attribute = (name) => script?.getAttribute(`data-${name}`) || '';
  const options = readOptions(new URL(script?.src || 'callswap.js', document.baseURI).href, attribute,
    window.callswapConfig);
  const problems = createProblems(window.console);
  // The wasm and the config are requested first, side by side (the wasm compiles while it
  // streams in): the first swap waits on both, nothing else is in their way.
  const configReady = loadConfig(options, document.baseURI);
  const moduleReady = loadModule(options.scriptUrl, mark);
  let decideReady = null;
  const decideModule = () => (decideReady ||= loadDecideModule(options.scriptUrl));
  // The server's config comes validated and compact; an inline one (or a file's) is
  // validated first, by the second module's full loader.
  const compactReady = configReady.then((config) => (config.compact !== undefined ? config.compact
    : decideModule().then((module) => compactConfig(module, config.json))));

  let site = null;
  let matcher = null;
  let swapper = null;
  let settings = null;
  let attribution = null;
  let driver = null;
  let consent = null;
  let observer = null;
  let paused = false;
  let mode = 'loading';
  let shownNumber = '';
  const manualQueue = [];

  let resolveReady;
  const ready = new Promise((resolve) => {
    resolveReady = resolve;
  });

  const state = () => {
    const out = { mode, source: attribution?.source ? attribution.source : null, number: shownNumber || null };
    if (mode === 'dynamic') out.session = driver.sessionId();
    const trouble = problems.first();
    if (trouble) Object.assign(out, trouble);
    return out;
  };
  const emit = (name, detail) => document.dispatchEvent(new window.CustomEvent(`callswap:${name}`, { detail }));
  const setMode = (next) => {
    if (next === mode) return;
    const previous = mode;
    mode = next;
    emit('mode', { ...state(), previous });
  };

  const api = {
    /** The callswap version (the project version of the build). */
    version: VERSION,
    ready,
    state,
    /** Swaps numbers under `root` (default: the whole page) and resumes watching the page. */
    rescan(root) {
      if (!swapper) return 0;
      if (paused) {
        paused = false;
        observePage();
        root = undefined;
      }
      return applySwap(root ? [root] : [document]);
    },
    /** Restores the page exactly as it was, and stops swapping until rescan(). */
    revert() {
      if (!swapper) return;
      paused = true;
      if (observer) observer.disconnect();
      swapper.revert();
    },
    consent: {
      grant: () => setManualConsent('granted'),
      deny: () => setManualConsent('denied'),
    },
    /** When each phase of the start ended, in ms since navigation, and the first swap's walk/match/apply (benchmark). */
    timings: () => ({ ...marks, ...(firstSwap || {}), last: swapper ? { ...swapper.timings } : null }),
  };
  window.callswap = api;

  function setManualConsent(choice) {
    if (consent) consent.setManual(choice);
    else manualQueue.push(choice);
  }

  function fail(error) {
    const code = error?.code && FATAL.has(error.code) ? error.code : 'start_failed';
    problems.report(code, error?.code ? error.details : { detail: String(error?.message || error) });
    setMode('off');
    resolveReady(state());
  }

  function start(compact, module) {
    site = loadSite(module, compact);
    settings = site.settings();
    matcher = site.matcher();
    swapper = createSwapper(matcher, settings.noswap_attribute);
    swapper.onShadowRoot(observeRoot);
    // A source carried by the link that led here stands for an earlier touch: it applies
    // when this visit has no source of its own (an internal link has none).
    const carried = options.carrySource ? carriedSource(window.location.href) : '';
    attribution = site.attribute(window.location.href, document.referrer, carried ? { source: carried, campaign: {} } : undefined);
    mark('config');
    showStatic();
    firstSwap = { ...swapper.timings };
    mark('swapped');
    setMode('static');
    observePage();
    watchShadowRootsOpenedLater();
    if (options.carrySource) carryOnLinks(document, carriedFromHere);
    resolveReady(state());
    // Without a pool there is no dynamic number to consent to: consent is not read and the
    // second module is never fetched.
    if (settings.pools) decideModule().then((module) => followConsent(loadDecisions(module, compact))).catch(decideFailed);
  }

  function followConsent(decisions) {
    const deciding = { ...site, consent: decisions.consent, session: decisions.session };
    const consentSettings = { ...settings, ...decisions.settings() };
    driver = createSessionDriver({ window, site: deciding, settings: consentSettings, serverUrl: options.serverUrl, problems,
      setMode, attribution: () => attribution, reattribute, showStatic, showDynamic: replaceAllWith });
    consent = watchConsent(window, consentSettings, driver.decide);
    for (const choice of manualQueue.splice(0)) consent.setManual(choice);
    driver.decide(consent.signals);
  }

  // The static numbers stay; the dynamic ones need the second module.
  function decideFailed(error) {
    problems.report(error?.code || 'start_failed', error?.code ? error.details : { detail: String(error?.message || error) });
  }
  let firstSwap = null;

  // Only a source that came with the visit (a campaign, a referrer, a carried source) is
  // worth carrying; the default source is what the next page finds anyway.
  function carriedFromHere() {
    return attribution?.source && !/^default|^no source/.test(attribution.reason) ? attribution.source : '';
  }

  // What an earlier page kept (with consent) may name an earlier source.
  function reattribute(touch) {
    const earlier = site.attribute(window.location.href, document.referrer, touch);
    if (earlier.source !== attribution.source) {
      attribution = earlier;
      showStatic();
    }
  }

  // ---- swapping ------------------------------------------------------------------------

  function replaceAllWith(e164) {
    if (!e164) return;
    for (let i = 0; i < settings.targets; i++) matcher.setReplacement(i, e164);
    shownNumber = e164;
    withoutObserver(() => swapper.revert());
    if (!paused) applySwap([document]);
  }
  function showStatic() {
    replaceAllWith(attribution.static || '');
  }

  // Full walks of the page enter the open shadow roots known by then (found by the sweep
  // below or attached since: the hook below); subtrees the page adds are always searched
  // (handleMutations).
  let sweptPage = false;
  function applySwap(roots) {
    const full = roots[0] === document;
    const count = withoutObserver(() => swapper.swap(roots, { sweepShadowRoots: !full }));
    if (full && !sweptPage) {
      sweptPage = true;
      setTimeout(sweepPage, 0);
    }
    release();
    emit('swap', { ...state(), edits: count });
    return count;
  }
  // Open shadow roots attached before callswap started can only be found by asking every
  // element for one, a cost of the page's size that would double the first swap's walk: the
  // sweep runs in the task after the first swap, and swaps inside what it finds.
  function sweepPage() {
    const started = performance.now();
    const roots = swapper.sweep(document);
    for (const root of roots) observeRoot(root);
    if (roots.length > 0 && !paused) applySwap(roots);
    marks.shadowSweep = performance.now() - started;
  }
  let release = () => {};

  // Our own writes must not come back as mutations, and recording them costs more than the
  // writes: the observer is off while we write. JavaScript runs alone, so no change by the
  // page can slip through meanwhile; what the page changed before is handled first.
  function withoutObserver(write) {
    if (observer && !paused && !writing) handleMutations(observer.takeRecords());
    return unobserved(write);
  }
  let writing = false;
  function unobserved(write) {
    if (!observer || paused || writing) return write();
    writing = true;
    observer.disconnect();
    try {
      return write();
    } finally {
      writing = false;
      for (const root of observed) observer.observe(root, observeOptions);
    }
  }

  const observed = new Set(); // the document and every open shadow root seen
  const observeOptions = { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['href'] };
  function observeRoot(root) {
    if (observed.has(root)) return;
    observed.add(root);
    if (observer && !paused && !writing) observer.observe(root, observeOptions);
  }
  function observePage() {
    if (!observer) observer = new window.MutationObserver(handleMutations);
    observed.add(document);
    for (const root of observed) observer.observe(root, observeOptions);
  }

  // Swaps what the page added or changed, and nothing else: the cost follows the change.
  function handleMutations(records) {
    if (paused || records.length === 0) return;
    const roots = new Set();
    for (const record of records) {
      if (record.type === 'childList') {
        for (const node of record.addedNodes) {
          if (node.nodeType === 1) roots.add(node);
          else if (node.nodeType === 3 && node.parentNode) roots.add(node.parentNode);
        }
      } else if (record.type === 'characterData') {
        swapper.forget(record.target);
        if (record.target.parentNode) roots.add(record.target.parentNode);
      } else {
        swapper.forget(record.target); // an href the page set itself
        roots.add(record.target);
      }
    }
    // Only the outermost changed nodes (an ancestor's swap covers its descendants).
    const covered = (node) => {
      for (let parent = node.parentNode; parent; parent = parent.parentNode) if (roots.has(parent)) return true;
      return false;
    };
    const connected = [...roots].filter((node) => node.isConnected && !covered(node));
    if (connected.length === 0) return;
    const count = unobserved(() => swapper.swap(connected));
    // Only real changes are announced, and at most 20 in one task: a listener that writes
    // a number into the page on every event would otherwise feed the observer forever.
    if (count > 0 && withinAnnouncementBudget()) emit('swap', { ...state(), edits: count });
  }

  let announcedThisTask = 0;
  function withinAnnouncementBudget() {
    if (announcedThisTask++ === 0) setTimeout(() => { announcedThisTask = 0; }, 0);
    return announcedThisTask <= 20;
  }

  // Shadow roots attached after the first walk: observe them as soon as they exist.
  function watchShadowRootsOpenedLater() {
    const prototype = window.Element?.prototype;
    if (!prototype || typeof prototype.attachShadow !== 'function') return;
    const attach = prototype.attachShadow;
    prototype.attachShadow = function attachShadow(init) {
      const root = attach.call(this, init);
      if (init && init.mode === 'open') {
        swapper.noteShadowHost(this);
        observeRoot(root);
        window.queueMicrotask(() => !paused && root.isConnected && applySwap([root]));
      }
      return root;
    };
  }

  // ---- boot ----------------------------------------------------------------------------

  configReady.then((config) => {
    mark('configFetched');
    const flicker = config.antiFlicker;
    if (flicker?.selector && mode === 'loading') {
      // The core's default timeout (config.hpp) applies when the config gives none.
      const hidden = hideUntilSwapped(document, flicker.selector, flicker.timeout_ms || 400);
      release = () => {
        hidden.release();
        release = () => {};
      };
    }
  }, () => {});
  Promise.all([compactReady, moduleReady])
    .then(([compact, module]) => {
      try {
        start(compact, module);
      } catch (error) {
        release();
        fail(error);
      }
    })
    .catch((error) => {
      release();
      fail(error);
    });
}

if (typeof window !== 'undefined' && typeof document !== 'undefined' && !window.callswap?.ready) {
  startCallswap(window);
}
