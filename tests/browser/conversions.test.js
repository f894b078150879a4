// Click ids and the GA client id leave the page only with consent for their purpose (the
// real SDK in Chromium, the real server): with Consent Mode granting ad_user_data the number
// request carries the gclid, and with analytics_storage the _ga client id, each naming the
// platform that granted it; with ad_user_data denied the click id is in no request at all.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { acmeConfig, useSiteAndServer, openPage, until } = require('./harness.js');

const POOL = Array.from({ length: 10 }, (_, i) => `+493090001${String(i + 10)}`);
const siteConfig = acmeConfig({
  consent: {
    signals: ['consent_mode', 'manual'],
    advertising: { consent_mode: { types: ['ad_user_data'] } },
    analytics: { consent_mode: { types: ['analytics_storage'] } },
  },
});
const env = useSiteAndServer(test, (origin) => [{ config: siteConfig, allowed_origins: [origin], pools: { ads: { numbers: POOL } } }]);

const CLICK_ID = 'Cj0KCQ-TestClickId_42';
function page(consent) {
  return `<!doctype html><html><head><meta charset="utf-8">
    <script>document.cookie = '_ga=GA1.1.1234567890.1700000000; path=/';
      window.dataLayer = []; function gtag() { dataLayer.push(arguments); }
      gtag('consent', 'default', ${JSON.stringify(consent)});</script>
    <script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script></head>
    <body><p id="phone">030 1234567</p></body></html>`;
}

async function numberRequest(path, consent) {
  env.site.pages[path] = page(consent);
  const { context, page: p, requests } = await openPage(env.browser, env.site.url(`${path}?gclid=${CLICK_ID}&utm_source=google`));
  await until(p, () => window.callswap.state().mode === 'dynamic');
  const ours = requests.filter((r) => r.url.startsWith(env.callswap.url));
  const post = ours.find((r) => r.method === 'POST' && r.url.endsWith('/v1/sites/acme/sessions'));
  assert.ok(post, 'a number was requested');
  await context.close();
  return { body: JSON.parse(post.body), ours };
}

test('with advertising and analytics consent the number request carries the click id and the GA client id', async () => {
  const { body } = await numberRequest('/granted.html', { analytics_storage: 'granted', ad_user_data: 'granted' });
  assert.deepEqual(body.ids, {
    click_id: { type: 'gclid', value: CLICK_ID, consent: 'consent_mode' },
    ga_client_id: { value: '1234567890.1700000000', consent: 'consent_mode' },
  });
  assert.equal(body.campaign.click_id, 'gclid');
  assert.equal(body.campaign.click_id_value, undefined);
});

test('without advertising consent the click id never leaves the page', async () => {
  const { body, ours } = await numberRequest('/no-ads.html', { analytics_storage: 'granted', ad_user_data: 'denied' });
  assert.deepEqual(body.ids, { ga_client_id: { value: '1234567890.1700000000', consent: 'consent_mode' } });
  for (const request of ours) {
    assert.ok(!request.url.includes(CLICK_ID), `${request.url} carries no click id`);
    assert.ok(!(request.body || '').includes(CLICK_ID), `${request.method} ${request.url} carries no click id`);
  }
  assert.equal(body.campaign.click_id, 'gclid', 'the source is still chosen by the click id, by name only');
});
