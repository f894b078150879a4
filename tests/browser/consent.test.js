// The legal line in a real browser, with the real CMP libraries: before consent
// only the script, the wasm and the static config are fetched, without cookies or referrer,
// and nothing is written on the device; with consent a dynamic number from the real server
// is shown and kept; after withdrawal one release, every key deleted, the static number back.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { acmeConfig, useSiteAndServer, openPage, recordRequests, deviceState, until, startSite } = require('./harness.js');

// Released numbers cool down before reuse, so every scenario gets a fresh one.
const POOL = Array.from({ length: 30 }, (_, i) => `+493090000${String(i + 10)}`);
const siteConfig = acmeConfig({
  consent: {
    require: 'any',
    signals: ['tcf', 'consent_mode', 'onetrust', 'cookiebot', 'usercentrics', 'klaro', 'cookieconsent', 'manual'],
  },
});

const env = useSiteAndServer(test, (origin) => [{ config: siteConfig, allowed_origins: [origin], pools: { ads: { numbers: POOL } } }]);

const SDK = '<script src="{{CALLSWAP}}/callswap.js" data-site="acme" referrerpolicy="no-referrer" async></script>';
const BODY = '<p id="phone">Rufen Sie an: 030 1234567</p><a id="link" href="tel:+49301234567">Anrufen</a>';

function page(head, body = '') {
  return `<!doctype html><html><head><meta charset="utf-8">${head}</head><body>${BODY}${body}</body></html>`;
}

const shown = (p) => p.evaluate(() => document.getElementById('phone').textContent.slice('Rufen Sie an: '.length));
const ours = (requests) => requests.filter((r) => r.url.startsWith(env.callswap.url));
const ourDevice = (device) => ({
  cookies: device.cookies.filter((name) => name.startsWith('callswap')),
  local: device.local.filter((key) => key.startsWith('callswap')),
  session: device.session,
  indexedDB: device.indexedDB,
});
const NOTHING = { cookies: [], local: [], session: [], indexedDB: [] };

// Before consent: the only requests are the four anonymous GETs (the script, its two wasm
// modules, the second because this site has pools, and the compact config; three with an
// inline config), and nothing is stored.
const ANONYMOUS_GETS = ['GET /callswap-decide.wasm', 'GET /callswap.js', 'GET /callswap.wasm', 'GET /v1/sites/acme/config/compact'];
async function assertBeforeConsent(p, requests, expected = ANONYMOUS_GETS) {
  assert.equal(await shown(p), '030 9876543', 'the static number of the source');
  assert.equal((await p.evaluate(() => window.callswap.state())).mode, 'static');
  const seen = ours(requests).map((r) => `${r.method} ${new URL(r.url).pathname}${new URL(r.url).search}`);
  assert.deepEqual(seen.sort(), expected);
  for (const request of ours(requests)) {
    assert.equal(request.headers.cookie, undefined, `${request.url} carries no cookie`);
    assert.equal(request.headers.referer, undefined, `${request.url} carries no referrer`);
  }
  assert.deepEqual(ourDevice(await deviceState(p)), NOTHING);
}

async function assertDynamic(p, requests) {
  await until(p, () => window.callswap.state().mode === 'dynamic');
  const state = await p.evaluate(() => window.callswap.state());
  assert.ok(POOL.includes(state.number), `a pool number: ${state.number}`);
  assert.match(state.session, /^[0-9a-f]{32}$/);
  const digits = state.number.slice(3);
  assert.equal(await shown(p), `0${digits.slice(0, 2)} ${digits.slice(2)}`, 'the pool number, written like the page');
  assert.equal(await p.evaluate(() => document.getElementById('link').getAttribute('href')), `tel:${state.number}`);
  const post = ours(requests).find((r) => r.method === 'POST' && r.url.endsWith('/v1/sites/acme/sessions'));
  assert.ok(post, 'a number was requested');
  assert.equal(post.headers.cookie, undefined);
  assert.equal(post.headers.referer, undefined);
  const body = JSON.parse(post.body);
  assert.deepEqual(Object.keys(body).sort(), ['campaign', 'consent', 'landing_path', 'source']);
  assert.ok(!body.landing_path.includes('?'), 'no query string leaves the page');
  assert.deepEqual(ourDevice(await deviceState(p)).cookies, ['callswap']);
  return state;
}

async function assertWithdrawn(p, requests, session) {
  await until(p, () => window.callswap.state().mode === 'static');
  assert.equal(await shown(p), '030 9876543');
  assert.equal(await p.evaluate(() => document.getElementById('link').getAttribute('href')), 'tel:+49309876543');
  await until(p, () => !document.cookie.includes('callswap='));
  const releases = ours(requests).filter((r) => r.method === 'DELETE');
  assert.deepEqual(releases.map((r) => new URL(r.url).pathname), [`/v1/sessions/${session}`], 'exactly one release');
  assert.deepEqual(ourDevice(await deviceState(p)), NOTHING);
  const count = ours(requests).length;
  await p.waitForTimeout(1200);
  assert.equal(ours(requests).length, count, 'no request after the withdrawal');
}

async function scenario(html, { grant, withdraw, expected }) {
  const path = `/c-${Math.random().toString(36).slice(2)}.html`;
  env.site.pages[path] = html;
  const { context, page: p, errors, requests } = await openPage(env.browser, env.site.url(path));
  await p.waitForTimeout(300); // the CMP has settled; still no consent
  await assertBeforeConsent(p, requests, expected);
  await grant(p);
  const state = await assertDynamic(p, requests);
  await withdraw(p, context);
  await assertWithdrawn(p, requests, state.session);
  assert.deepEqual(errors, []);
  return { context, page: p, requests };
}

test('manual API: grant, a second page keeps the number, deny', async () => {
  const html = page(SDK);
  const { context } = await scenario(html, {
    grant: (p) => p.evaluate(() => window.callswap.consent.grant()),
    withdraw: async (p, context) => {
      // Consent again, then a second page of the site: same number, no new request.
      await p.evaluate(() => window.callswap.consent.grant());
      await until(p, () => window.callswap.state().mode === 'dynamic');
      const first = await p.evaluate(() => window.callswap.state());
      const second = await context.newPage();
      env.site.pages['/second.html'] = html;
      const requests = recordRequests(second);
      await second.goto(env.site.url('/second.html'));
      await second.evaluate(() => window.callswap.ready);
      assert.equal((await second.evaluate(() => window.callswap.state())).mode, 'static', 'nothing read before consent');
      await second.evaluate(() => window.callswap.consent.grant());
      await until(second, () => window.callswap.state().mode === 'dynamic');
      assert.deepEqual(await second.evaluate(() => window.callswap.state()), first);
      assert.equal(ours(requests).filter((r) => r.method === 'POST' && r.url.includes('/sessions')).length, 0);
      await second.close();
      await p.evaluate(() => window.callswap.consent.deny());
    },
  });
  await context.close();
});

test('localStorage instead of a cookie when the config says so; mode events tell each step', async () => {
  const config = { ...siteConfig, session: { storage: 'localStorage' } };
  const html = page(`<script>window.callswapConfig = ${JSON.stringify(config)};
    window.modes = []; document.addEventListener('callswap:mode', (e) => window.modes.push(e.detail.mode));</script>${SDK}`);
  const path = '/local-storage.html';
  env.site.pages[path] = html;
  const context = await env.browser.newContext();
  const p = await context.newPage();
  await p.goto(env.site.url(path));
  await p.evaluate(() => window.callswap.ready);
  assert.deepEqual(ourDevice(await deviceState(p)), NOTHING);
  await p.evaluate(() => window.callswap.consent.grant());
  await until(p, () => window.callswap.state().mode === 'dynamic');
  const device = ourDevice(await deviceState(p));
  assert.deepEqual(device.cookies, []);
  assert.deepEqual(device.local, ['callswap']);
  const stored = JSON.parse(await p.evaluate(() => localStorage.getItem('callswap')));
  assert.equal(stored.session.id, (await p.evaluate(() => window.callswap.state())).session);
  await p.evaluate(() => window.callswap.consent.deny());
  await until(p, () => window.callswap.state().mode === 'static');
  assert.deepEqual(ourDevice(await deviceState(p)), NOTHING);
  assert.deepEqual(await p.evaluate(() => window.modes), ['static', 'requesting', 'dynamic', 'static']);
  await context.close();
});

test('heartbeats while the page is visible, none while it is hidden', async () => {
  const config = { ...siteConfig, session: { heartbeat_seconds: 10 } };
  env.site.pages['/heartbeat.html'] = page(`<script>window.callswapConfig = ${JSON.stringify(config)};</script>${SDK}`);
  const context = await env.browser.newContext();
  const p = await context.newPage();
  await p.clock.install(); // the page's timers and Date, moved by the test
  const requests = recordRequests(p);
  await p.goto(env.site.url('/heartbeat.html'));
  await p.evaluate(() => window.callswap.ready);
  await p.evaluate(() => window.callswap.consent.grant());
  await until(p, () => window.callswap.state().mode === 'dynamic');
  const heartbeats = () => ours(requests).filter((r) => r.url.endsWith('/heartbeat')).length;
  assert.equal(heartbeats(), 0);
  await p.clock.fastForward(11000);
  await until(p, () => true);
  await p.waitForTimeout(300);
  assert.equal(heartbeats(), 1, 'one heartbeat after 10 s');
  const setHidden = (hidden) => p.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  await setHidden(true);
  await p.clock.fastForward(60000);
  await p.waitForTimeout(300);
  assert.equal(heartbeats(), 1, 'none while hidden');
  await setHidden(false);
  await p.waitForTimeout(300);
  assert.equal(heartbeats(), 2, 'one at once when visible again');
  assert.equal((await p.evaluate(() => window.callswap.state())).mode, 'dynamic');
  await context.close();
});

// Consent Mode granted by default only: implied consent, which GPC and DNT veto.
const GRANTED_DEFAULT = `<script>window.dataLayer = []; function gtag() { dataLayer.push(arguments); }
  gtag('consent', 'default', { analytics_storage: 'granted' });</script>`;

test('Do Not Track vetoes a granted default too', async () => {
  env.site.pages['/dnt.html'] = page(`${GRANTED_DEFAULT}${SDK}`);
  const { context, page: p, requests } = await openPage(env.browser, env.site.url('/dnt.html'),
    { init: "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })" });
  await p.waitForTimeout(500);
  await assertBeforeConsent(p, requests);
  // An explicit update is a choice: DNT does not veto it.
  await p.evaluate(() => window.gtag('consent', 'update', { analytics_storage: 'granted' }));
  await assertDynamic(p, requests);
  await context.close();
});

const TCF_HEAD = `<script src="/node_modules/@iabtechlabtcf/stub/lib/stub.js"></script>
<script type="importmap">{"imports": {"@iabtechlabtcf/core": "/node_modules/@iabtechlabtcf/core/lib/mjs/index.js"}}</script>
<script type="module">
  window.loadCmp = async () => {
    const { CmpApi } = await import('/node_modules/@iabtechlabtcf/cmpapi/lib/mjs/index.js');
    const { GVL, TCModel, TCString } = await import('@iabtechlabtcf/core');
    const gvl = new GVL(await (await fetch('/fixtures/tcf-vendor-list.json')).json());
    const api = new CmpApi(2, 1, true);
    const encode = (purposes) => {
      const model = new TCModel(gvl);
      model.cmpId = 2;
      model.cmpVersion = 1;
      model.purposeConsents.set(purposes);
      model.publisherConsents.set(purposes);
      return TCString.encode(model);
    };
    window.cmp = { show: () => api.update('', true), choose: (purposes) => api.update(encode(purposes), false) };
    window.cmp.show();
  };
</script>`;

test('IAB TCF v2.2: a CMP that loads after callswap, through the stub queue', async () => {
  const { context } = await scenario(page(`${TCF_HEAD}${SDK}`, '<script type="module">window.loadCmp();</script>'), {
    grant: async (p) => {
      await until(p, () => window.cmp);
      // Only purpose 1 is not enough (purpose 7 is required): still static.
      await p.evaluate(() => window.cmp.choose([1]));
      await p.waitForTimeout(200);
      assert.equal((await p.evaluate(() => window.callswap.state())).mode, 'static');
      await p.evaluate(() => window.cmp.choose([1, 7]));
    },
    withdraw: (p) => p.evaluate(() => window.cmp.choose([])),
  });
  await context.close();
});

test('IAB TCF v2.2: callswap in a child frame reaches the CMP through __tcfapiLocator', async () => {
  // The frame holds callswap and the numbers; the top page holds the CMP.
  env.site.pages['/tcf-frame.html'] = page(SDK);
  const top = `<!doctype html><html><head>${TCF_HEAD}</head><body>
    <iframe id="frame" src="/tcf-frame.html"></iframe><script type="module">window.loadCmp();</script></body></html>`;
  env.site.pages['/tcf-top.html'] = top;
  const context = await env.browser.newContext();
  const p = await context.newPage();
  const requests = recordRequests(p);
  await p.goto(env.site.url('/tcf-top.html'));
  const frame = await (await p.waitForSelector('#frame')).contentFrame();
  await frame.waitForFunction(() => window.callswap && window.callswap.state().mode === 'static');
  await until(p, () => window.cmp);
  await p.evaluate(() => window.cmp.choose([1, 7]));
  await frame.waitForFunction(() => window.callswap.state().mode === 'dynamic', null, { timeout: 10000 });
  const { session } = await frame.evaluate(() => window.callswap.state());
  await p.evaluate(() => window.cmp.choose([]));
  await frame.waitForFunction(() => window.callswap.state().mode === 'static', null, { timeout: 10000 });
  await frame.waitForFunction(() => !document.cookie.includes('callswap='));
  assert.deepEqual(ours(requests).filter((r) => r.method === 'DELETE').map((r) => new URL(r.url).pathname), [`/v1/sessions/${session}`]);
  await context.close();
});

test('IAB TCF v2.2: callswap in a cross-origin child frame adds one listener, by postMessage', async () => {
  // The top page (with the CMP) on another origin: the frame can reach it only by postMessage.
  const other = await startSite();
  try {
    env.site.pages['/tcf-xframe.html'] = page(SDK);
    other.pages['/tcf-xtop.html'] = `<!doctype html><html><head>${TCF_HEAD}</head><body>
      <iframe id="frame" src="${env.site.url('/tcf-xframe.html')}"></iframe>
      <script type="module">
        await window.loadCmp();
        // The stub relays each postMessage call to window.__tcfapi: count the listeners added.
        const inner = window.__tcfapi;
        window.listenersAdded = 0;
        window.__tcfapi = function (command, ...rest) {
          if (command === 'addEventListener') window.listenersAdded++;
          return inner.call(this, command, ...rest);
        };
      </script></body></html>`;
    const context = await env.browser.newContext();
    const p = await context.newPage();
    const requests = recordRequests(p);
    await p.goto(other.url('/tcf-xtop.html'));
    const frame = await (await p.waitForSelector('#frame')).contentFrame();
    await frame.waitForFunction(() => window.callswap && window.callswap.state().mode === 'static');
    await until(p, () => window.cmp && window.listenersAdded === 1);
    await p.evaluate(() => window.cmp.choose([1, 7]));
    await frame.waitForFunction(() => window.callswap.state().mode === 'dynamic', null, { timeout: 10000 });
    const { session } = await frame.evaluate(() => window.callswap.state());
    await p.evaluate(() => window.cmp.choose([]));
    await frame.waitForFunction(() => window.callswap.state().mode === 'static', null, { timeout: 10000 });
    assert.deepEqual(ours(requests).filter((r) => r.method === 'DELETE').map((r) => new URL(r.url).pathname), [`/v1/sessions/${session}`]);
    await p.waitForTimeout(2500);
    assert.equal(await p.evaluate(() => window.listenersAdded), 1, 'registered once, not again every second');
    await context.close();
  } finally {
    await other.close();
  }
});

// The WordPress WP Consent API (the plugin's JavaScript side, tests/browser/fixtures/wp-consent-api.js).
function wpPage(type, config) {
  return page(`<script src="/fixtures/wp-consent-api.js"></script><script>window.wp_consent_type = '${type}';
    window.callswapConfig = ${JSON.stringify(config)};</script>${SDK}`);
}
const INLINE_GETS = ANONYMOUS_GETS.slice(0, 3);
const WP_CONFIG = { ...siteConfig, consent: { signals: ['wp_consent_api'] } };

test('WordPress WP Consent API, opt-in site: marketing allowed, then denied', async () => {
  const { context } = await scenario(wpPage('optin', WP_CONFIG), {
    grant: async (p) => {
      // Another category is not enough: dynamic numbers need 'marketing'.
      await p.evaluate(() => window.wp_set_consent('statistics', 'allow'));
      await p.waitForTimeout(200);
      assert.equal((await p.evaluate(() => window.callswap.state())).mode, 'static');
      await p.evaluate(() => window.wp_set_consent('marketing', 'allow'));
    },
    withdraw: (p) => p.evaluate(() => window.wp_set_consent('marketing', 'deny')),
    expected: INLINE_GETS,
  });
  await context.close();
});

test('WordPress WP Consent API: the category the site config names, and opt-out defaults', async () => {
  // The site names 'statistics' instead of 'marketing'.
  const named = { ...siteConfig, consent: { signals: ['wp_consent_api'], wp_consent_api: { categories: ['statistics'] } } };
  const { context } = await scenario(wpPage('optin', named), {
    grant: (p) => p.evaluate(() => window.wp_set_consent('statistics', 'allow')),
    withdraw: (p) => p.evaluate(() => window.wp_set_consent('statistics', 'deny')),
    expected: INLINE_GETS,
  });
  await context.close();
  // An opt-out site grants by default; Global Privacy Control vetoes such a default.
  env.site.pages['/wp-optout.html'] = wpPage('optout', WP_CONFIG);
  const optout = await openPage(env.browser, env.site.url('/wp-optout.html'));
  await until(optout.page, () => window.callswap.state().mode === 'dynamic');
  await optout.context.close();
  const vetoed = await openPage(env.browser, env.site.url('/wp-optout.html'),
    { init: "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })" });
  await vetoed.page.waitForTimeout(500);
  await assertBeforeConsent(vetoed.page, vetoed.requests, INLINE_GETS);
  await vetoed.context.close();
});

const GTAG = `<script>window.dataLayer = window.dataLayer || []; function gtag() { dataLayer.push(arguments); }
  gtag('consent', 'default', { analytics_storage: 'denied', ad_storage: 'denied' });</script>`;

test('Google Consent Mode v2 through gtag: default denied, update granted, update denied', async () => {
  const { context } = await scenario(page(`${GTAG}${SDK}`), {
    grant: (p) => p.evaluate(() => window.gtag('consent', 'update', { analytics_storage: 'granted' })),
    withdraw: (p) => p.evaluate(() => window.gtag('consent', 'update', { analytics_storage: 'denied' })),
  });
  await context.close();
});

test('Consent Mode after Tag Manager replaced dataLayer.push is still read', async () => {
  const { context } = await scenario(page(`${GTAG}${SDK}`), {
    grant: async (p) => {
      await p.evaluate(() => {
        const original = Array.prototype.push;
        window.dataLayer.push = function gtmPush(...items) {
          return original.apply(window.dataLayer, items);
        };
        window.gtag('consent', 'update', { analytics_storage: 'granted' });
      });
    },
    withdraw: (p) => p.evaluate(() => window.gtag('consent', 'update', { analytics_storage: 'denied' })),
  });
  await context.close();
});

test('Global Privacy Control vetoes a granted default; without GPC the same default counts', async () => {
  env.site.pages['/gpc.html'] = page(`${GRANTED_DEFAULT}${SDK}`);
  for (const gpc of [true, false]) {
    const { context, page: p, requests } = await openPage(env.browser, env.site.url('/gpc.html'),
      { init: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => ${gpc} })` });
    if (gpc) {
      await p.waitForTimeout(500);
      await assertBeforeConsent(p, requests);
    } else {
      await assertDynamic(p, requests);
    }
    await context.close();
  }
});

test('Klaro (real library): confirm, then decline', async () => {
  const klaro = `<script>window.klaroConfig = { storageMethod: 'cookie', cookieName: 'klaro', mustConsent: false,
      services: [{ name: 'callswap', title: 'Call tracking', purposes: ['analytics'], default: false }] };</script>
    <script defer src="/node_modules/klaro/dist/klaro-no-css.js"></script>`;
  const { context } = await scenario(page(`${klaro}${SDK}`), {
    grant: async (p) => {
      await until(p, () => window.klaro?.getManager());
      await p.evaluate(() => {
        const manager = window.klaro.getManager();
        manager.updateConsent('callswap', true);
        manager.saveAndApplyConsents();
      });
    },
    withdraw: (p) => p.evaluate(() => {
      const manager = window.klaro.getManager();
      manager.changeAll(false);
      manager.saveAndApplyConsents();
    }),
  });
  await context.close();
});

test('vanilla-cookieconsent 3 (real library): accept all, then reject', async () => {
  const cc = `<script src="/node_modules/vanilla-cookieconsent/dist/cookieconsent.umd.js"></script>
    <script>CookieConsent.run({ categories: { necessary: { enabled: true, readOnly: true }, analytics: {} },
      language: { default: 'en', translations: { en: {
        consentModal: { title: 'Cookies', description: 'We measure calls.', acceptAllBtn: 'Accept', acceptNecessaryBtn: 'Reject' },
        preferencesModal: { title: 'Preferences', sections: [] } } } } });</script>`;
  const { context } = await scenario(page(`${cc}${SDK}`), {
    grant: (p) => p.evaluate(() => window.CookieConsent.acceptCategory('all')),
    withdraw: (p) => p.evaluate(() => window.CookieConsent.acceptCategory([])),
  });
  await context.close();
});

// OneTrust, Cookiebot and Usercentrics are commercial scripts that cannot run offline: these
// pages imitate their documented globals and events, as a site sees them.
test('OneTrust (documented API, imitated): groups updated after the banner closes', async () => {
  const onetrust = `<script>window.OnetrustActiveGroups = ',C0001,'; window.OneTrust = { closed: false, IsAlertBoxClosed() { return this.closed; } };
    window.otChoose = (groups) => { OneTrust.closed = true; window.OnetrustActiveGroups = groups;
      window.dispatchEvent(new CustomEvent('OneTrustGroupsUpdated', { detail: groups.split(',').filter(Boolean) })); };</script>`;
  const { context } = await scenario(page(`${onetrust}${SDK}`), {
    grant: (p) => p.evaluate(() => window.otChoose(',C0001,C0002,')),
    withdraw: (p) => p.evaluate(() => window.otChoose(',C0001,')),
  });
  await context.close();
});

test('Cookiebot (documented API, imitated): accept statistics, then decline', async () => {
  const cookiebot = `<script>window.Cookiebot = { hasResponse: false, consent: { necessary: true, statistics: false, method: null } };
    window.cbChoose = (statistics) => { Object.assign(Cookiebot, { hasResponse: true });
      Object.assign(Cookiebot.consent, { statistics, method: 'explicit' });
      window.dispatchEvent(new Event(statistics ? 'CookiebotOnAccept' : 'CookiebotOnDecline')); };</script>`;
  const { context } = await scenario(page(`${cookiebot}${SDK}`), {
    grant: (p) => p.evaluate(() => window.cbChoose(true)),
    withdraw: (p) => p.evaluate(() => window.cbChoose(false)),
  });
  await context.close();
});

test('Usercentrics v2 (documented API, imitated): service accepted, then revoked', async () => {
  const uc = `<script>window.ucState = { required: true, status: false };
    window.UC_UI = { isInitialized: () => true, isConsentRequired: () => ucState.required,
      getServicesBaseInfo: () => Promise.resolve([{ id: 'x1', name: 'callswap', consent: { status: ucState.status } }]) };
    window.ucChoose = (status) => { Object.assign(ucState, { required: false, status });
      window.dispatchEvent(new CustomEvent('ucEvent', { detail: { event: 'consent_status', callswap: status } })); };</script>`;
  const { context } = await scenario(page(`${uc}${SDK}`), {
    grant: (p) => p.evaluate(() => window.ucChoose(true)),
    withdraw: (p) => p.evaluate(() => window.ucChoose(false)),
  });
  await context.close();
});
