// The visit's session, run only with consent and only for a source that has a pool: the
// core's session machine decides; this file carries out its actions (request, heartbeat,
// store, release) and feeds it events (answers, activity, visibility, time).

import { createDevice } from './device.js';

/**
 * @param {object} visit what the page side offers: {window, site, settings, serverUrl,
 *   attribution(), reattribute(stored touch), showStatic(), showDynamic(e164), setMode(mode),
 *   problems}
 * @returns {{decide(signals: object): void, sessionId(): string}}
 */
export function createSessionDriver(visit) {
  const { window, site, settings, serverUrl, problems } = visit;
  const document = window.document;
  const device = createDevice(window, settings);
  // Requests carry nothing the visitor did not consent to: no cookies, no referrer.
  const anonymous = { credentials: 'omit', referrerPolicy: 'no-referrer' };
  let machine = null;
  let consented = false;
  let sessionId = '';
  let wakeTimer = 0;
  let lastDecision = '';
  let purposes = {};

  function decide(signals) {
    const decision = site.consent(signals);
    purposes = decision;
    // The whole decision: a change of the advertising or analytics purpose counts too.
    const key = JSON.stringify(decision);
    if (key === lastDecision) return;
    lastDecision = key;
    const allowed = decision.mode === 'dynamic' && decision.may_store;
    if (allowed && !consented) {
      consented = true;
      const stored = device.read();
      if (stored?.touch) visit.reattribute(stored.touch);
      // A source without a pool has only its static number: no session, no request.
      if (!visit.attribution().pool) return;
      if (machine) machine.destroy();
      machine = site.session(visit.attribution().source || '');
      run({ kind: 'start', consent: true, visible: !document.hidden, stored: stored ? stored.session : undefined });
      watchActivity();
    } else if (!allowed && consented) {
      consented = false;
      run({ kind: 'consent', consent: false });
    } else if (allowed && sessionId) {
      // Consent for advertising or analytics changed during the session: the ids it now
      // allows go with a heartbeat, and null for one it no longer allows, which the server erases.
      send('POST', `/v1/sessions/${sessionId}/heartbeat`, { ids: ids(null) });
    } else if (!allowed && decision.signals.some((s) => s.state === 'denied')) {
      device.erase(); // an explicit refusal: anything kept under an earlier consent goes
    }
  }

  function run(event) {
    if (!machine) return;
    const answer = machine.handle({ now: Date.now(), ...event });
    for (const action of answer.actions) perform(action);
    visit.setMode(answer.mode === 'dynamic' ? 'dynamic' : answer.mode === 'requesting' ? 'requesting' : 'static');
    clearTimeout(wakeTimer);
    if (answer.wakeup !== null) wakeTimer = setTimeout(() => run({ kind: 'tick' }), Math.max(0, answer.wakeup - Date.now()));
  }

  function perform(action) {
    switch (action.kind) {
      case 'show_static':
        sessionId = '';
        return visit.showStatic();
      case 'show_dynamic':
        sessionId = action.session_id;
        return visit.showDynamic(action.number); // checked by the core when it arrived
      case 'request_number':
        return requestNumber(action.source);
      case 'send_heartbeat':
        return send('POST', `/v1/sessions/${encodeURIComponent(action.session_id)}/heartbeat`).then((answer) => {
          if (answer.status === 200) run({ kind: 'heartbeat_ok', expires_in_ms: answer.body.expires_in * 1000 });
          else if (answer.status === 404) run({ kind: 'session_gone' });
        });
      case 'release':
        return send('DELETE', `/v1/sessions/${encodeURIComponent(action.session_id)}`);
      case 'store': {
        const { source, campaign } = visit.attribution();
        return device.write({ session: action.stored, touch: { source, campaign } });
      }
      case 'erase':
        return device.erase();
      default:
    }
  }

  // A click id's value goes only with consent for advertising, the GA client id only with
  // consent for analytics, each with the platforms that granted it; without it, `gone`.
  function ids(gone) {
    const { click_id: type, click_id_value: kept } = visit.attribution().campaign || {};
    const value = type && (kept || new URLSearchParams(window.location.search).get(type) || undefined);
    const ga = /\b_ga=GA\d\.\d+\.(\d+\.\d+)/.exec(document.cookie) || undefined;
    return {
      click_id: purposes.advertising ? value && { type, value, consent: purposes.advertising } : gone,
      ga_client_id: purposes.analytics ? ga && { value: ga[1], consent: purposes.analytics } : gone,
    };
  }

  function requestNumber(source) {
    // The campaign sent names the click id, never its value; ids go only when there are any.
    const { click_id_value: _, ...campaign } = visit.attribution().campaign || {};
    const found = ids();
    const body = { source, consent: true, landing_path: window.location.pathname, campaign, ids: (found.click_id || found.ga_client_id) && found };
    send('POST', `/v1/sites/${encodeURIComponent(settings.site)}/sessions`, body, false).then((answer) => {
      const given = answer.status === 201 && answer.body;
      if (given && typeof given.session === 'string' && /^[0-9a-f]{32}$/.test(given.session) &&
        typeof given.number === 'string' && !site.isNumber(given.number)) {
        // Not a number at all: give the session back and stay static.
        send('DELETE', `/v1/sessions/${given.session}`);
        run({ kind: 'no_number', reason: 'error' });
      } else if (given && typeof given.session === 'string' && typeof given.number === 'string') {
        run({ kind: 'assigned', session_id: given.session, number: given.number,
          expires_in_ms: (Number(given.expires_in) || 0) * 1000 });
      } else {
        run({ kind: 'no_number', reason: answer.body?.reason || 'error' });
      }
    });
  }

  // One request to the server, bounded in time. Never throws: {status: 0} when unreachable.
  // A number request is never cut off: the machine gives up at its own deadline, and a
  // number that arrives after that is released, not left held in the pool.
  function send(method, path, body, abortable = true) {
    const controller = abortable && typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller && setTimeout(() => controller.abort(), settings.request_timeout_ms);
    const init = { ...anonymous, method, cache: 'no-store', keepalive: method === 'DELETE', signal: controller?.signal };
    if (body) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    return fetch(`${serverUrl}${path}`, init)
      .then((response) => (response.status === 204 ? { status: 204, body: null }
        : response.json().then((json) => ({ status: response.status, body: json }), () => ({ status: response.status, body: null }))))
      .catch((error) => {
        if (error?.name !== 'AbortError') checkOriginAllowed();
        return { status: 0, body: null };
      })
      .finally(() => clearTimeout(timer));
  }

  // A request that fails without an answer is either a server that is down or one that
  // refused this page's origin (CORS hides which). A no-cors request, which CORS does not
  // block, tells them apart; it is made once, and carries nothing about the visitor.
  let originChecked = false;
  function checkOriginAllowed() {
    if (originChecked) return;
    originChecked = true;
    fetch(`${serverUrl}/healthz`, { ...anonymous, mode: 'no-cors', cache: 'no-store' }).then(() => {
      problems.report('origin_not_allowed', { origin: window.location.origin, site: settings.site, server: serverUrl });
    }, () => {});
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

  return { decide, sessionId: () => sessionId };
}
