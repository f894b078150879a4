// The browser SDK: one script tag. It loads the site config and the wasm core, swaps the
// page's numbers to the visit's static number at once, follows consent, and only with
// consent carries out the session machine's actions (request, heartbeat, store, release).
// Every decision is the core's; this file only moves events in and actions out.
// Public API: window.callswap (docs/sdk.md).

function startCallswap(window) {
  const document = window.document;
  const script = document.currentScript || document.querySelector('script[data-site][src*="callswap"]');
  const scriptUrl = new URL((script && script.src) || 'callswap.js', document.baseURI);
  const data = (name) => (script && script.getAttribute(`data-${name}`)) || '';
  const siteId = data('site') || (window.callswapConfig && window.callswapConfig.site) || '';
  const serverUrl = (data('server') || scriptUrl.origin).replace(/\/+$/, '');
  // Requests before consent carry nothing about the visitor: no cookies, no referrer.
  const anonymous = { credentials: 'omit', referrerPolicy: 'no-referrer' };

  let site = null;
  let matcher = null;
  let swapper = null;
  let settings = null;
  let attribution = null;
  let machine = null;
  let consent = null;
  let observer = null;
  let paused = false;
  let consented = false;
  let mode = 'loading';
  let shownNumber = '';
  let sessionId = '';
  let wakeTimer = 0;
  let failure = '';
  const manualQueue = [];

  let resolveReady;
  const ready = new Promise((resolve) => {
    resolveReady = resolve;
  });

  const state = () => {
    const out = { mode, source: attribution && attribution.source ? attribution.source : null, number: shownNumber || null };
    if (mode === 'dynamic') out.session = sessionId;
    if (failure) out.error = failure;
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
  };
  window.callswap = api;

  function setManualConsent(choice) {
    if (consent) consent.setManual(choice);
    else manualQueue.push(choice);
  }

  function fail(reason, error) {
    failure = reason;
    setMode('off');
    if (error && window.console) window.console.warn(`callswap: ${reason}`, error.message || error);
    resolveReady(state());
  }

  // ---- loading -------------------------------------------------------------------------

  function loadConfig() {
    if (window.callswapConfig && typeof window.callswapConfig === 'object') return Promise.resolve(window.callswapConfig);
    const url = data('config') ? new URL(data('config'), document.baseURI) : `${serverUrl}/v1/sites/${encodeURIComponent(siteId)}/config`;
    return fetch(url, anonymous).then((response) => {
      if (!response.ok) throw new Error(`config answered HTTP ${response.status}`);
      return response.json();
    });
  }

  // The glue would fetch the wasm with credentials and the page URL as referrer; fetch it
  // here instead and hand the compiled module over.
  function loadModule() {
    let failed;
    const wasmFailed = new Promise((resolve, reject) => {
      failed = reject;
    });
    const wasmUrl = new URL('callswap.wasm', scriptUrl);
    const instantiateWasm = (imports, receive) => {
      fetch(wasmUrl, anonymous)
        .then((response) => {
          if (!response.ok) throw new Error(`wasm answered HTTP ${response.status}`);
          const streaming = typeof WebAssembly.instantiateStreaming === 'function' &&
            (response.headers.get('Content-Type') || '').startsWith('application/wasm');
          return streaming ? WebAssembly.instantiateStreaming(response, imports)
            : response.arrayBuffer().then((bytes) => WebAssembly.instantiate(bytes, imports));
        })
        .then((result) => receive(result.instance, result.module), failed);
      return {};
    };
    return Promise.race([createCallswapModule({ instantiateWasm }), wasmFailed]);
  }

  function start(config, module) {
    site = loadSite(module, config);
    settings = site.settings();
    matcher = site.matcher();
    swapper = createSwapper(matcher, settings.noswap_attribute);
    swapper.onShadowRoot(observeRoot);
    attribution = site.attribute(window.location.href, document.referrer);
    showStatic();
    setMode('static');
    observePage();
    watchShadowRootsOpenedLater();
    resolveReady(state());
    consent = watchConsent(window, settings.signals, decide);
    for (const choice of manualQueue.splice(0)) consent.setManual(choice);
    decide(consent.signals);
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

  // The first walk of the page looks for open shadow roots on every element; later full
  // walks enter the ones known by then or attached since (the hook below), and subtrees the
  // page adds are always searched (handleMutations).
  let sweptPage = false;
  function applySwap(roots) {
    const sweepShadowRoots = !sweptPage || roots[0] !== document;
    const count = withoutObserver(() => swapper.swap(roots, { sweepShadowRoots }));
    if (roots[0] === document) sweptPage = true;
    release();
    emit('swap', { ...state(), edits: count });
    return count;
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
    const prototype = window.Element && window.Element.prototype;
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

  // ---- consent and the session ---------------------------------------------------------

  let lastDecision = '';
  function decide(signals) {
    if (!site) return;
    const decision = site.consent(signals);
    const key = `${decision.mode}/${decision.may_store}`;
    if (key === lastDecision) return;
    lastDecision = key;
    const allowed = decision.mode === 'dynamic' && decision.may_store;
    if (allowed && !consented) {
      consented = true;
      const stored = readStored();
      if (stored && stored.touch) {
        const earlier = site.attribute(window.location.href, document.referrer, stored.touch);
        if (earlier.source !== attribution.source) {
          attribution = earlier;
          showStatic();
        }
      }
      if (machine) machine.destroy();
      machine = site.session(attribution.source || '');
      run({ kind: 'start', consent: true, visible: !document.hidden, stored: stored ? stored.session : undefined });
      watchActivity();
    } else if (!allowed && consented) {
      consented = false;
      run({ kind: 'consent', consent: false });
    } else if (!allowed && decision.signals.some((s) => s.state === 'denied')) {
      erase(); // an explicit refusal: anything kept under an earlier consent goes
    }
  }

  function run(event) {
    if (!machine) return;
    const answer = machine.handle({ now: Date.now(), ...event });
    for (const action of answer.actions) perform(action);
    setMode(answer.mode === 'dynamic' ? 'dynamic' : answer.mode === 'requesting' ? 'requesting' : 'static');
    clearTimeout(wakeTimer);
    if (answer.wakeup !== null) wakeTimer = setTimeout(() => run({ kind: 'tick' }), Math.max(0, answer.wakeup - Date.now()));
  }

  function perform(action) {
    switch (action.kind) {
      case 'show_static':
        sessionId = '';
        return showStatic();
      case 'show_dynamic':
        sessionId = action.session_id;
        return replaceAllWith(action.number); // checked by the core when it arrived
      case 'request_number':
        return requestNumber(action.source);
      case 'send_heartbeat':
        return send('POST', `/v1/sessions/${encodeURIComponent(action.session_id)}/heartbeat`).then((answer) => {
          if (answer.status === 200) run({ kind: 'heartbeat_ok', expires_in_ms: answer.body.expires_in * 1000 });
          else if (answer.status === 404) run({ kind: 'session_gone' });
        });
      case 'release':
        return send('DELETE', `/v1/sessions/${encodeURIComponent(action.session_id)}`);
      case 'store':
        return writeStored({ session: action.stored, touch: { source: attribution.source, campaign: attribution.campaign } });
      case 'erase':
        return erase();
      default:
    }
  }

  function requestNumber(source) {
    const body = { source, consent: true, landing_path: window.location.pathname, campaign: attribution.campaign || {} };
    send('POST', `/v1/sites/${encodeURIComponent(settings.site)}/sessions`, body, false).then((answer) => {
      const given = answer.status === 201 && answer.body;
      if (given && typeof given.session === 'string' && /^[0-9a-f]{32}$/.test(given.session) &&
        typeof given.number === 'string' && !site.isNumber(given.number)) {
        // Not a number at all: give the session back and stay static.
        send('DELETE', `/v1/sessions/${given.session}`);
        run({ kind: 'no_number', reason: 'error' });
      } else if (given && typeof given.session === 'string' && typeof given.number === 'string') {
        run({ kind: 'assigned', session_id: answer.body.session, number: answer.body.number,
          expires_in_ms: (Number(answer.body.expires_in) || 0) * 1000 });
      } else {
        run({ kind: 'no_number', reason: (answer.body && answer.body.reason) || 'error' });
      }
    });
  }
  // One request to the server, bounded in time. Never throws: {status: 0} when unreachable.
  // A number request is never cut off: the machine gives up at its own deadline, and a
  // number that arrives after that is released, not left held in the pool.
  function send(method, path, body, abortable = true) {
    const controller = abortable && typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller && setTimeout(() => controller.abort(), settings.request_timeout_ms);
    const init = { ...anonymous, method, cache: 'no-store', keepalive: method === 'DELETE', signal: controller && controller.signal };
    if (body) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    return fetch(`${serverUrl}${path}`, init)
      .then((response) => (response.status === 204 ? { status: 204, body: null }
        : response.json().then((json) => ({ status: response.status, body: json }), () => ({ status: response.status, body: null }))))
      .catch(() => ({ status: 0, body: null }))
      .finally(() => clearTimeout(timer));
  }

  let activityWatched = false;
  function watchActivity() {
    if (activityWatched) return;
    activityWatched = true;
    let last = 0;
    const active = () => {
      const now = Date.now();
      if (!consented || now - last < 15000) return;
      last = now;
      run({ kind: 'activity' });
    };
    for (const name of ['pointerdown', 'keydown', 'scroll']) window.addEventListener(name, active, { passive: true, capture: true });
    document.addEventListener('visibilitychange', () => consented && run({ kind: 'visibility', visible: !document.hidden }));
  }

  // ---- what is kept between pages (only with consent) -----------------------------------

  const STORAGE_KEY = 'callswap';
  function cookieAttributes(maxAge) {
    const domain = settings.cookie_domain ? `; domain=${settings.cookie_domain}` : '';
    const secure = window.location.protocol === 'https:' ? '; secure' : '';
    return `; path=/; max-age=${maxAge}; samesite=lax${domain}${secure}`;
  }
  function readStored() {
    try {
      let text = '';
      if (settings.storage === 'cookie') {
        const match = document.cookie.match(/(?:^|;\s*)callswap=([^;]*)/);
        text = match ? decodeURIComponent(match[1]) : '';
      } else {
        text = window.localStorage.getItem(STORAGE_KEY) || '';
      }
      const value = text ? JSON.parse(text) : null;
      return value && typeof value === 'object' ? value : null;
    } catch (error) {
      return null;
    }
  }
  function writeStored(value) {
    try {
      const text = JSON.stringify(value);
      if (settings.storage === 'cookie') {
        const maxAge = Math.max(1, Math.ceil((value.session.expires_at - Date.now()) / 1000));
        document.cookie = `callswap=${encodeURIComponent(text)}${cookieAttributes(maxAge)}`;
      } else {
        window.localStorage.setItem(STORAGE_KEY, text);
      }
    } catch (error) {
      // Storage blocked: the number still shows on this page, just not on the next.
    }
  }
  // Deletes what the SDK may have written, and writes nothing when there is nothing.
  function erase() {
    try {
      if (/(?:^|;\s*)callswap=/.test(document.cookie)) document.cookie = `callswap=${cookieAttributes(0)}`;
    } catch (error) {
      // cookies blocked
    }
    try {
      if (window.localStorage && window.localStorage.getItem(STORAGE_KEY) !== null) window.localStorage.removeItem(STORAGE_KEY);
    } catch (error) {
      // storage blocked
    }
  }

  // ---- boot ----------------------------------------------------------------------------

  const configReady = loadConfig();
  configReady.then((config) => {
    const flicker = config && config.swap && config.swap.anti_flicker;
    if (flicker && flicker.selector && mode === 'loading') {
      // The core's default timeout (config.hpp) applies when the config gives none.
      const hidden = hideUntilSwapped(document, flicker.selector, flicker.timeout_ms || 400);
      release = () => {
        hidden.release();
        release = () => {};
      };
    }
  }, () => {});
  Promise.all([configReady, loadModule()])
    .then(([config, module]) => {
      try {
        start(config, module);
      } catch (error) {
        release();
        fail(error.errors ? 'invalid site config' : 'could not start', error);
      }
    })
    .catch((error) => {
      release();
      fail('could not load', error);
    });
}

if (typeof window !== 'undefined' && typeof document !== 'undefined' && !(window.callswap && window.callswap.ready)) {
  startCallswap(window);
}
