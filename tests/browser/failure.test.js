// How the SDK loads, and what it does when things go wrong: async, defer, a tag manager,
// inline or URL config; blocked wasm leaves the page alone (owner.test.js: what the owner is told);
// a server that is down, slow, out of numbers or hostile leaves the static number, with
// no error storm and no uncaught exception.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { useSiteAndServer, openPage, closedPort, until } = require('./harness.js');

const siteConfig = {
  site: 'acme',
  country: 'DE',
  targets: ['+49301234567'],
  pools: ['ads', 'tiny'],
  sources: [
    { id: 'google-ads', static: '+49301111111', pool: 'tiny', match: { click_ids: ['gclid'] } },
    { id: 'direct', static: '+49309876543', pool: 'ads', default: true },
  ],
  session: { request_timeout_ms: 500 },
};
const BODY = '<p id="phone">030 1234567</p>';

const env = useSiteAndServer(test, (origin) => [{
  config: siteConfig,
  allowed_origins: [origin],
  pools: {
    ads: { numbers: ['+49309000001', '+49309000002', '+49309000003'] },
    tiny: { numbers: ['+49309000099'], when_exhausted: 'static' },
  },
}]);

function visit(html, { query = '', headers } = {}) {
  const path = `/f-${Math.random().toString(36).slice(2)}.html`;
  env.site.pages[path] = html;
  if (headers) env.site.headers[path] = headers;
  return openPage(env.browser, env.site.url(path + query));
}

const phone = (page) => page.evaluate(() => document.getElementById('phone').textContent);
const doc = (head, body = BODY) => `<!doctype html><html><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;

test('loaded with defer', async () => {
  const { context, page, errors } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" defer></script>'));
  assert.equal(await phone(page), '030 9876543');
  assert.deepEqual(errors, []);
  await context.close();
});

test('inserted by a tag manager after load (a custom HTML tag)', async () => {
  const { context, page } = await visit(doc('', `${BODY}<script>window.addEventListener('load', () => {
      const s = document.createElement('script');
      s.src = '{{CALLSWAP}}/callswap.js';
      s.dataset.site = 'acme';
      document.head.appendChild(s);
    });</script>`));
  assert.equal(await phone(page), '030 9876543');
  await context.close();
});

test('a config from a data-config URL; the SDK hosted by the site itself', async () => {
  env.site.pages['/acme-config.json'] = JSON.stringify({ ...siteConfig, sources: [{ id: 'all', static: '+49301111119', default: true }] });
  const { context, page, requests } = await visit(doc(
    `<script src="/dist/callswap.js" data-config="/acme-config.json" data-server="{{CALLSWAP}}" async></script>`));
  assert.equal(await phone(page), '030 1111119');
  const config = requests.find((r) => r.url.endsWith('/acme-config.json'));
  assert.equal(config.headers.referer, undefined);
  await context.close();
});

test('wasm blocked by the page\'s Content-Security-Policy: the page keeps its numbers', async () => {
  const csp = `script-src 'self' 'unsafe-inline' ${env.callswap.url}; connect-src 'self' ${env.callswap.url}`;
  const { context, page, errors, state } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>'),
    { headers: { 'Content-Security-Policy': csp } });
  assert.equal(state.mode, 'off');
  assert.equal(await phone(page), '030 1234567');
  assert.deepEqual(errors, []);
  assert.equal(await page.evaluate(() => window.callswap.consent.grant()), undefined, 'the API still answers');
  await context.close();
});

test('server down: the static number stays, one attempt, no storm', async () => {
  const down = `http://127.0.0.1:${await closedPort()}`;
  const { context, page, errors, requests } = await visit(doc(
    `<script>window.callswapConfig = ${JSON.stringify(siteConfig)};</script>
     <script src="/dist/callswap.js" data-server="${down}" async></script>`));
  await page.evaluate(() => window.callswap.consent.grant());
  await page.waitForTimeout(2000);
  assert.equal((await page.evaluate(() => window.callswap.state())).mode, 'static');
  assert.equal(await phone(page), '030 9876543');
  assert.equal(requests.filter((r) => r.url.startsWith(down) && r.method === 'POST').length, 1, 'the next try waits for the back-off');
  assert.equal(await page.evaluate(() => document.cookie), '');
  assert.deepEqual(errors, []);
  await context.close();
});

test('server slow: static after the timeout, and the late number is released', async () => {
  const { context, page } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>'));
  await context.route('**/v1/sites/acme/sessions', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await page.evaluate(() => window.callswap.consent.grant());
  await until(page, () => window.callswap.state().mode === 'requesting');
  await until(page, () => window.callswap.state().mode === 'static');
  const release = await page.waitForRequest((r) => r.method() === 'DELETE', { timeout: 5000 });
  assert.match(new URL(release.url()).pathname, /^\/v1\/sessions\/[0-9a-f]{32}$/);
  assert.equal(await phone(page), '030 9876543');
  assert.equal(await page.evaluate(() => document.cookie), '', 'nothing kept for a number never shown');
  await context.close();
});

test('pool exhausted: the static number stays and the server is not asked again at once', async () => {
  // Someone else holds the only number of the tiny pool.
  const taken = await fetch(`${env.callswap.url}/v1/sites/acme/sessions`, {
    method: 'POST', headers: { Origin: env.site.origin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ source: 'google-ads', consent: true }) });
  assert.equal(taken.status, 201);
  const { context, page, requests, errors } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>'),
    { query: '?gclid=abc' });
  await page.evaluate(() => window.callswap.consent.grant());
  await page.waitForTimeout(1500);
  assert.deepEqual(await page.evaluate(() => window.callswap.state()), { mode: 'static', source: 'google-ads', number: '+49301111111' });
  assert.equal(await phone(page), '030 1111111');
  assert.equal(requests.filter((r) => r.method === 'POST').length, 1);
  assert.equal(await page.evaluate(() => document.cookie), '');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a hostile server answer never becomes markup', async () => {
  const { context, page, errors, requests } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>'));
  const cors = { 'Access-Control-Allow-Origin': env.site.origin, 'Access-Control-Allow-Methods': 'POST, DELETE',
    'Access-Control-Allow-Headers': 'Content-Type' };
  await context.route('**/v1/sites/acme/sessions', (route) => route.fulfill({
    status: 201, contentType: 'application/json', headers: cors,
    body: JSON.stringify({ session: 'a'.repeat(32), number: '<img src=x onerror="window.owned=1">', expires_in: 60 }) }));
  await context.route(`**/v1/sessions/${'a'.repeat(32)}`, (route) => route.fulfill({ status: 204, headers: cors }));
  await page.evaluate(() => window.callswap.consent.grant());
  await page.waitForRequest((r) => r.method() === 'DELETE');
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => document.body.innerHTML), BODY.replace('030 1234567', '030 9876543'));
  assert.equal(await page.evaluate(() => window.owned), undefined);
  assert.equal((await page.evaluate(() => window.callswap.state())).mode, 'static');
  assert.ok(requests.some((r) => r.method === 'DELETE'));
  assert.deepEqual(errors, []);
  await context.close();
});
