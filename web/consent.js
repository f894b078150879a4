// Consent adapters: each one turns a platform's own signals into the core's normalised
// signals (see include/callswap/consent.hpp) and reports every change. None of them decides
// anything: a missing or undecided signal is simply left out, and the core reads it as unknown.
// Platforms may load before or after callswap, and consent may change at any time.

// Calls `found` with the platform's global once it exists: now, on DOMContentLoaded and load,
// then every 500 ms for 30 s (a CMP loaded late by a tag manager still gets picked up).
function whenGlobal(window, lookup, found) {
  let done = false;
  const attempt = () => {
    if (done) return;
    let value;
    try {
      value = lookup();
    } catch {
      value = undefined;
    }
    if (value) {
      done = true;
      clearInterval(timer);
      found(value);
    }
  };
  const timer = setInterval(attempt, 500);
  setTimeout(() => clearInterval(timer), 30000);
  window.addEventListener('DOMContentLoaded', attempt);
  window.addEventListener('load', attempt);
  attempt();
}

// IAB TCF v2.2. One listener, registered once: it answers at once and on every change
// (withdrawal included).
function watchTcf(window, report) {
  const onData = (tc, success) => {
    if (success && tc) {
      report({ cmpStatus: tc.cmpStatus, eventStatus: tc.eventStatus, gdprApplies: tc.gdprApplies,
        purpose: tc.purpose, vendor: tc.vendor, publisher: tc.publisher });
    }
  };
  const listen = (api) => api('addEventListener', 2, onData);
  if (typeof window.__tcfapi === 'function') return listen(window.__tcfapi);
  const locator = findTcfLocator(window);
  if (!locator) return whenGlobal(window, () => typeof window.__tcfapi === 'function' && window.__tcfapi, listen);
  // A CMP frame of the same origin is called directly; another origin only by postMessage.
  let direct = null;
  try {
    direct = typeof locator.__tcfapi === 'function' ? locator.__tcfapi : null;
  } catch {
    direct = null;
  }
  return direct ? listen(direct) : listenThroughFrame(window, locator, onData);
}

// A CMP in an ancestor frame announces itself with a child frame named __tcfapiLocator.
function findTcfLocator(window) {
  for (let frame = window; frame && frame !== frame.parent;) {
    frame = frame.parent;
    try {
      if (frame.frames.__tcfapiLocator) return frame;
    } catch {
      // A cross-origin frame without the locator: keep walking up.
    }
  }
  return null;
}

// The postMessage form of __tcfapi. Ping until the CMP has loaded, then add the listener
// once. A relay that follows the TCF spec posts every later event under the same callId;
// the IAB stub's relay posts only the answer given at once, so until a second event has
// come through, the current data is read with getTCData every second (a read: nothing is
// registered with the CMP).
function listenThroughFrame(window, target, onData) {
  const pending = new Map(); // callId → [callback, answers more than once]
  let nextId = 0;
  const call = (command, callback, repeats = false) => {
    const callId = `callswap-${++nextId}`;
    pending.set(callId, [callback, repeats]);
    target.postMessage({ __tcfapiCall: { command, version: 2, callId } }, '*');
  };
  window.addEventListener('message', (event) => {
    let data = event.data;
    if (typeof data === 'string') {
      if (data.indexOf('__tcfapiReturn') < 0) return;
      try {
        data = JSON.parse(data);
      } catch {
        return;
      }
    }
    const answer = data?.__tcfapiReturn;
    const entry = answer && pending.get(answer.callId);
    if (!entry) return;
    if (!entry[1]) pending.delete(answer.callId);
    entry[0](answer.returnValue, answer.success);
  });
  let events = 0;
  let lastString = null;
  const changed = (tc, success) => {
    if (!success || !tc) return;
    const key = `${tc.eventStatus}|${tc.tcString}`;
    if (key === lastString) return;
    lastString = key;
    onData(tc, success);
  };
  let pings = 0;
  const timer = setInterval(() => {
    if (++pings > 120) clearInterval(timer); // no CMP after 30 s: TCF stays unknown
    else ping();
  }, 250);
  const ping = () => call('ping', (value) => {
    if (pings < 0 || !value || !value.cmpLoaded) return;
    pings = -1;
    clearInterval(timer);
    call('addEventListener', (tc, success) => {
      events++;
      changed(tc, success);
    }, true);
    const poll = setInterval(() => {
      if (events > 1) clearInterval(poll);
      else call('getTCData', changed);
    }, 1000);
  });
  ping();
}

// Google Consent Mode v2: gtag pushes `arguments` objects ['consent', 'default'|'update', {...}]
// to dataLayer. There is no read API, so read the array and every later push (also after
// Tag Manager replaces dataLayer.push with its own).
function watchConsentMode(window, report) {
  if (!window.dataLayer) window.dataLayer = [];
  const dataLayer = window.dataLayer;
  const commands = [];
  let seen = 0;
  const scan = () => {
    let changed = false;
    for (; seen < dataLayer.length; seen++) {
      const entry = dataLayer[seen];
      if (entry && typeof entry === 'object' && entry[0] === 'consent' && entry[2] && typeof entry[2] === 'object') {
        commands.push({ command: entry[1], params: entry[2] });
        changed = true;
      }
    }
    if (changed) report(commands.slice());
  };
  let inner = dataLayer.push;
  const wrapped = function push(...items) {
    const result = inner.apply(this, items);
    scan();
    return result;
  };
  Object.defineProperty(dataLayer, 'push', {
    configurable: true,
    get: () => wrapped,
    set: (fn) => {
      inner = fn;
    },
  });
  scan();
}

function watchOneTrust(window, report) {
  const read = () => {
    if (typeof window.OnetrustActiveGroups !== 'string') return;
    const closed = window.OneTrust && typeof window.OneTrust.IsAlertBoxClosed === 'function' &&
      window.OneTrust.IsAlertBoxClosed();
    report({ active_groups: window.OnetrustActiveGroups, alert_box_closed: closed === true });
  };
  window.addEventListener('OneTrustGroupsUpdated', read);
  whenGlobal(window, () => typeof window.OnetrustActiveGroups === 'string', read);
}

function watchCookiebot(window, report) {
  const read = () => {
    const cookiebot = window.Cookiebot;
    if (!cookiebot?.consent) return;
    report({ has_response: cookiebot.hasResponse === true, method: cookiebot.consent.method || '',
      consent: { ...cookiebot.consent } });
  };
  for (const name of ['CookiebotOnConsentReady', 'CookiebotOnAccept', 'CookiebotOnDecline', 'CookiebotOnLoad']) {
    window.addEventListener(name, read);
  }
  whenGlobal(window, () => window.Cookiebot?.consent, read);
}

// Usercentrics v2 (UC_UI); getServicesBaseInfo may answer a list or a Promise of one.
function watchUsercentrics(window, report) {
  const read = () => {
    const ui = window.UC_UI;
    if (!ui || typeof ui.getServicesBaseInfo !== 'function') return;
    const explicit = typeof ui.isConsentRequired === 'function' ? ui.isConsentRequired() === false : false;
    Promise.resolve(ui.getServicesBaseInfo()).then((list) => {
      const services = {};
      for (const service of list || []) {
        const granted = !!(service.consent && service.consent.status === true);
        if (service.name) services[service.name] = granted;
        if (service.id) services[service.id] = granted;
      }
      report({ services, explicit });
    }, () => {});
  };
  for (const name of ['UC_UI_INITIALIZED', 'UC_UI_CMP_EVENT', 'ucEvent', 'UC_CONSENT']) window.addEventListener(name, read);
  whenGlobal(window, () => window.UC_UI?.isInitialized?.(), read);
}

// Klaro reports defaults before the visitor confirms; `confirmed` tells them apart.
function watchKlaro(window, report) {
  whenGlobal(window, () => window.klaro && typeof window.klaro.getManager === 'function' && window.klaro.getManager(),
    (manager) => {
      const read = () => report({ confirmed: manager.confirmed === true, consents: { ...manager.consents } });
      manager.watch({ update: read });
      read();
    });
}

// vanilla-cookieconsent 3.
function watchCookieConsent(window, report) {
  const read = () => {
    const cc = window.CookieConsent;
    if (!cc || typeof cc.validConsent !== 'function') return;
    const preferences = typeof cc.getUserPreferences === 'function' ? cc.getUserPreferences() : {};
    report({ valid: cc.validConsent() === true, accepted: preferences?.acceptedCategories || [] });
  };
  for (const name of ['cc:onFirstConsent', 'cc:onConsent', 'cc:onChange']) window.addEventListener(name, read);
  whenGlobal(window, () => window.CookieConsent && typeof window.CookieConsent.validConsent === 'function', read);
}

// The WordPress WP Consent API: wp_has_consent(category) answers for the site's consent
// plugin, window.wp_consent_type says whether the site is opt-in or opt-out, and the
// document event wp_listen_for_consent_change reports each change as {category: 'allow'|'deny'}.
function watchWpConsentApi(window, report, settings) {
  const categories = settings.wp_consent_categories || ['marketing'];
  const changed = {};
  const read = () => {
    if (typeof window.wp_has_consent !== 'function') return;
    const granted = {};
    for (const category of categories) granted[category] = window.wp_has_consent(category) === true;
    report({ type: window.wp_consent_type === 'optout' ? 'optout' : 'optin', granted, changed: { ...changed } });
  };
  window.document.addEventListener('wp_listen_for_consent_change', (event) => {
    const detail = event.detail && typeof event.detail === 'object' ? event.detail : {};
    for (const category of categories) {
      if (detail[category] === 'allow' || detail[category] === 'deny') changed[category] = detail[category];
    }
    read();
  });
  // The consent plugin may set the type after the page loaded.
  window.document.addEventListener('wp_consent_type_defined', read);
  whenGlobal(window, () => typeof window.wp_has_consent === 'function', read);
}

const CONSENT_ADAPTERS = {
  tcf: watchTcf,
  consent_mode: watchConsentMode,
  onetrust: watchOneTrust,
  cookiebot: watchCookiebot,
  usercentrics: watchUsercentrics,
  klaro: watchKlaro,
  cookieconsent: watchCookieConsent,
  wp_consent_api: watchWpConsentApi,
};

/**
 * Watches the configured platforms and calls `changed(signals)` with the normalised signals
 * whenever one of them reports. GPC and DNT are read once (they cannot change in a page).
 * @param {{signals: string[], wp_consent_categories?: string[]}} settings the core's site settings
 * @returns {{signals: object, setManual(choice: 'granted'|'denied'): void}}
 */
export function watchConsent(window, settings, changed) {
  const platforms = settings.signals;
  const signals = {};
  const navigator = window.navigator || {};
  if (navigator.globalPrivacyControl === true) signals.gpc = true;
  if (navigator.doNotTrack === '1' || window.doNotTrack === '1') signals.dnt = true;
  const report = (platform) => (value) => {
    signals[platform] = value;
    changed(signals);
  };
  for (const platform of platforms) {
    const adapter = CONSENT_ADAPTERS[platform];
    if (!adapter) continue;
    try {
      adapter(window, report(platform), settings);
    } catch {
      // A platform that throws leaves its signal unknown; the others still count.
    }
  }
  return {
    signals,
    setManual(choice) {
      signals.manual = choice;
      changed(signals);
    },
  };
}
