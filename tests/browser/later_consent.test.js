// Consent for advertising or analytics given later in the visit (the real SDK in Chromium,
// the real server, a real CMP library): the session already holds its number, so the click id
// and the GA client id this page holds go to the server with a heartbeat once the visitor
// grants their purpose, never before; withdrawing it sends null, and the server erases the id.
// The Google Ads feed, fetched as the platform does, shows what the server keeps.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { acmeConfig, useSiteAndServer, openPage, deviceState, until } = require('./harness.js');

const POOL = Array.from({ length: 10 }, (_, i) => `+493090002${String(i + 10)}`);
const CALLS_SECRET = 'calls-secret-0123456789abcdef';
const FEED_PASSWORD = 'feed-password-0123456789';
const siteConfig = acmeConfig({
  consent: {
    signals: ['cookieconsent', 'consent_mode'],
    cookieconsent: { categories: ['functionality'] },
    advertising: { consent_mode: { types: ['ad_user_data'] }, cookieconsent: { categories: ['marketing'] } },
    analytics: { consent_mode: { types: ['analytics_storage'] }, cookieconsent: { categories: ['analytics'] } },
  },
});
const env = useSiteAndServer(test, (origin) => [{
  config: siteConfig, allowed_origins: [origin], pools: { ads: { numbers: POOL } },
  conversions: { values: [{ name: 'Phone call', value: 30 }], feeds: { username: 'googleads', password: FEED_PASSWORD } },
}], { webhooks: { calls_secret: CALLS_SECRET } });

const CLICK_ID = 'Cj0KCQ-LaterConsent_9';
const GA_ID = '1234567890.1700000000';
const SDK = '<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>';
const GA_COOKIE = `<script>document.cookie = '_ga=GA1.1.${GA_ID}; path=/';</script>`;

function page(head) {
  return `<!doctype html><html><head><meta charset="utf-8">${head}${SDK}</head><body><p id="phone">030 1234567</p></body></html>`;
}

const feed = async () => (await fetch(`${env.callswap.url}/v1/sites/acme/conversions/google-ads.csv`,
  { headers: { Authorization: `Basic ${Buffer.from(`googleads:${FEED_PASSWORD}`).toString('base64')}` } })).text();

let callCount = 0;
async function callTo(number) {
  const text = JSON.stringify({ call_id: `later-${++callCount}`, to: number, from: '+4915112345678', status: 'completed', duration_seconds: 80 });
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = crypto.createHmac('sha256', CALLS_SECRET).update(`${ts}.${text}`).digest('hex');
  const r = await fetch(`${env.callswap.url}/v1/webhooks/calls`, { method: 'POST', body: text,
    headers: { 'Content-Type': 'application/json', 'X-Callswap-Timestamp': ts, 'X-Callswap-Signature': `sha256=${signature}` } });
  assert.equal(r.status, 201, await r.text());
}

const heartbeats = (requests) => requests.filter((r) => r.method === 'POST' && r.url.endsWith('/heartbeat') && r.body)
  .map((r) => JSON.parse(r.body));
const carries = (requests, value) => requests.some((r) => r.url.includes(value) || (r.body || '').includes(value));

test('vanilla-cookieconsent 3 (real library): marketing and analytics granted after the number, then marketing withdrawn', async () => {
  const cc = `<script src="/node_modules/vanilla-cookieconsent/dist/cookieconsent.umd.js"></script>
    <script>CookieConsent.run({ categories: { necessary: { enabled: true, readOnly: true }, functionality: {}, analytics: {}, marketing: {} },
      language: { default: 'en', translations: { en: {
        consentModal: { title: 'Cookies', description: 'We measure calls.', acceptAllBtn: 'Accept', acceptNecessaryBtn: 'Reject' },
        preferencesModal: { title: 'Preferences', sections: [] } } } } });</script>`;
  env.site.pages['/cc.html'] = page(`${GA_COOKIE}${cc}`);
  const { context, page: p, requests, errors } = await openPage(env.browser, env.site.url(`/cc.html?gclid=${CLICK_ID}`));
  const ours = () => requests.filter((r) => r.url.startsWith(env.callswap.url));

  // The number only: the session is made without either id, and no request carries them.
  await p.evaluate(() => window.CookieConsent.acceptCategory(['functionality']));
  await until(p, () => window.callswap.state().mode === 'dynamic');
  const { number } = await p.evaluate(() => window.callswap.state());
  const created = JSON.parse(ours().find((r) => r.method === 'POST' && r.url.endsWith('/v1/sites/acme/sessions')).body);
  assert.equal(created.ids, undefined);
  assert.ok(!carries(ours(), CLICK_ID) && !carries(ours(), GA_ID), 'no id before its consent');
  const device = async () => {
    const state = await deviceState(p);
    return { ...state, cookies: state.cookies.sort() };
  };
  const stored = await device();

  // Marketing and analytics granted later: one heartbeat carries both ids with their consent.
  await p.evaluate(() => window.CookieConsent.acceptCategory(['functionality', 'analytics', 'marketing']));
  const granted = await waitFor(() => heartbeats(ours()).find((b) => b.ids?.click_id));
  assert.deepEqual(granted, { ids: {
    click_id: { type: 'gclid', value: CLICK_ID, consent: 'cookieconsent' },
    ga_client_id: { value: GA_ID, consent: 'cookieconsent' },
  } });
  // Nothing new was written on the device for it.
  assert.deepEqual(await device(), stored);
  await callTo(number);
  const listed = await waitFor(async () => {
    const text = await feed();
    return text.includes(CLICK_ID) && text;
  });
  assert.match(listed, new RegExp(`\r\n${CLICK_ID},Phone call,\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,30\\.00,EUR\r\n`));

  // Marketing withdrawn: null for the click id, which the server erases; the GA id stays.
  await p.evaluate(() => window.CookieConsent.acceptCategory(['functionality', 'analytics']));
  const withdrawn = await waitFor(() => heartbeats(ours()).find((b) => b.ids?.click_id === null));
  assert.deepEqual(withdrawn, { ids: { click_id: null, ga_client_id: { value: GA_ID, consent: 'cookieconsent' } } });
  await waitFor(async () => !(await feed()).includes(CLICK_ID));
  assert.equal((await p.evaluate(() => window.callswap.state())).mode, 'dynamic', 'the number stays');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Consent Mode: ad_user_data granted after the number sends the click id; analytics_storage came with the number', async () => {
  env.site.pages['/cm.html'] = page(`${GA_COOKIE}<script>window.dataLayer = []; function gtag() { dataLayer.push(arguments); }
    gtag('consent', 'default', { analytics_storage: 'granted', ad_user_data: 'denied' });</script>`);
  const { context, page: p, requests, errors } = await openPage(env.browser, env.site.url(`/cm.html?gclid=${CLICK_ID}`));
  const ours = () => requests.filter((r) => r.url.startsWith(env.callswap.url));
  await until(p, () => window.callswap.state().mode === 'dynamic');
  const created = JSON.parse(ours().find((r) => r.method === 'POST' && r.url.endsWith('/v1/sites/acme/sessions')).body);
  assert.deepEqual(created.ids, { ga_client_id: { value: GA_ID, consent: 'consent_mode' } });
  assert.ok(!carries(ours(), CLICK_ID), 'no click id before advertising consent');
  await p.evaluate(() => window.gtag('consent', 'update', { ad_user_data: 'granted' }));
  const granted = await waitFor(() => heartbeats(ours()).find((b) => b.ids?.click_id));
  assert.deepEqual(granted.ids.click_id, { type: 'gclid', value: CLICK_ID, consent: 'consent_mode' });
  const { number } = await p.evaluate(() => window.callswap.state());
  await callTo(number);
  await waitFor(async () => (await feed()).includes(CLICK_ID));
  assert.deepEqual(errors, []);
  await context.close();
});

// Polls `probe` (sync or async) until it returns something truthy, for up to 10 s.
async function waitFor(probe) {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${probe}`);
}
