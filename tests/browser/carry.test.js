// Sessions only where there is a pool, and the source carried across pages without storing
// anything: a source without a pool shows its static number and sends nothing even with
// consent; with data-carry-source="link" and consent refused, the campaign's static number
// follows the visitor over three pages with no cookie, no storage and no request.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { acmeConfig, useSiteAndServer, openPage, deviceState } = require('./harness.js');

const siteConfig = acmeConfig({
  sources: [
    { id: 'google-ads', static: '+49301111111', pool: 'ads', match: { click_ids: ['gclid'] } },
    { id: 'print', static: '+49302222222', match: { params: { utm_source: 'flyer' } } },
    { id: 'direct', static: '+49309876543', default: true },
  ],
  consent: { signals: ['consent_mode', 'manual'] },
});
const env = useSiteAndServer(test, (origin) => [{ config: siteConfig, allowed_origins: [origin], pools: { ads: { numbers: ['+49309000001'] } } }]);

const DENIED = `<script>window.dataLayer = []; function gtag() { dataLayer.push(arguments); }
  gtag('consent', 'default', { analytics_storage: 'denied', ad_storage: 'denied' });</script>`;
const doc = (head, body) => `<!doctype html><html><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;
const phone = (page) => page.evaluate(() => document.getElementById('phone').textContent);
const ours = (requests) => requests.filter((r) => r.url.startsWith(env.callswap.url)).map((r) => `${r.method} ${new URL(r.url).pathname}`);
const NOTHING = { cookies: [], local: [], session: [], indexedDB: [] };

test('a source without a pool never creates a session, even with consent', async () => {
  env.site.pages['/flyer.html'] = doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>', '<p id="phone">030 1234567</p>');
  const { context, page, requests, errors } = await openPage(env.browser, env.site.url('/flyer.html?utm_source=flyer'));
  assert.equal(await phone(page), '030 2222222');
  await page.evaluate(() => window.callswap.consent.grant());
  await page.waitForTimeout(1500);
  assert.deepEqual(await page.evaluate(() => window.callswap.state()), { mode: 'static', source: 'print', number: '+49302222222' });
  assert.equal(await phone(page), '030 2222222');
  assert.deepEqual(ours(requests).sort(), ['GET /callswap-decide.wasm', 'GET /callswap.js', 'GET /callswap.wasm', 'GET /v1/sites/acme/config/compact']);
  assert.deepEqual(await deviceState(page), NOTHING);
  assert.deepEqual(errors, []);
  await context.close();
});

function threePages(carry) {
  const sdk = `${DENIED}<script src="{{CALLSWAP}}/callswap.js" data-site="acme"${carry ? ' data-carry-source="link"' : ''} async></script>`;
  const prefix = carry ? '/c' : '/n';
  env.site.pages[`${prefix}1.html`] = doc(sdk, `<p id="phone">030 1234567</p><a id="next" href="${prefix}2.html">Preise</a>
    <a id="away" href="https://example.org/x">elsewhere</a><a id="call" href="tel:+49301234567">call</a>`);
  env.site.pages[`${prefix}2.html`] = doc(sdk, `<p id="phone">030 1234567</p><a id="next" href="${prefix}3.html?lang=de#top"><span>Kontakt</span></a>`);
  env.site.pages[`${prefix}3.html`] = doc(sdk, '<p id="phone">Tel. 030 1234567</p>');
}

test('the source is carried over three pages by links, with consent refused: no cookie, no storage, no request', async () => {
  threePages(true);
  const { context, page, requests, errors } = await openPage(env.browser, env.site.url('/c1.html?gclid=abc'));
  assert.equal(await phone(page), '030 1111111');
  // Only the links that stay on the site are decorated, and only when followed.
  assert.equal(await page.evaluate(() => document.getElementById('next').getAttribute('href')), '/c2.html');
  await page.evaluate(() => {
    for (const id of ['away', 'call']) document.getElementById(id).addEventListener('click', (e) => e.preventDefault());
    document.getElementById('away').click();
    document.getElementById('call').click();
  });
  assert.equal(await page.evaluate(() => document.getElementById('away').getAttribute('href')), 'https://example.org/x');
  assert.equal(await page.evaluate(() => document.getElementById('call').getAttribute('href')), 'tel:+49301111111');
  // The context menu ("open in new tab") decorates the link too.
  await page.click('#next', { button: 'right' });
  assert.equal(await page.evaluate(() => document.getElementById('next').getAttribute('href')),
    `${env.site.origin}/c2.html?callswap_source=google-ads`);
  for (const [next, expected] of [['/c2.html', '030 1111111'], ['/c3.html', 'Tel. 030 1111111']]) {
    await Promise.all([page.waitForURL(`**${next}*`), page.click('#next')]);
    await page.waitForFunction(() => window.callswap && window.callswap.state().mode === 'static');
    assert.equal(new URL(page.url()).searchParams.get('callswap_source'), 'google-ads');
    assert.equal(await phone(page), expected);
    assert.equal((await page.evaluate(() => window.callswap.state())).source, 'google-ads');
    assert.deepEqual(await deviceState(page), NOTHING);
  }
  assert.equal(new URL(page.url()).searchParams.get('lang'), 'de', 'the link\'s own query stays');
  await page.waitForTimeout(500);
  const seen = ours(requests);
  assert.deepEqual([...new Set(seen)].sort(), ['GET /callswap-decide.wasm', 'GET /callswap.js', 'GET /callswap.wasm', 'GET /v1/sites/acme/config/compact']);
  assert.ok(!requests.some((r) => r.method !== 'GET'), 'no request sends anything');
  for (const r of requests.filter((x) => x.url.startsWith(env.callswap.url))) assert.equal(r.headers.cookie, undefined);
  assert.deepEqual(errors, []);
  await context.close();
});

test('without the opt-in the next page shows the default number', async () => {
  threePages(false);
  const { context, page } = await openPage(env.browser, env.site.url('/n1.html?gclid=abc'));
  assert.equal(await phone(page), '030 1111111');
  await Promise.all([page.waitForURL('**/n2.html'), page.click('#next')]);
  await page.waitForFunction(() => window.callswap && window.callswap.state().mode === 'static');
  assert.equal(await phone(page), '030 9876543');
  await context.close();
});
