// `make demo` as a newcomer meets it: the demo server starts callswap-server and
// the example site; a visitor from a Google Ads click sees the static number, accepts the
// real consent banner, keeps a dynamic number across pages and the single-page app,
// simulates a call and finds it on the admin report; withdrawing brings the static number back.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { useDemo, recordRequests, until } = require('./harness.js');

const env = useDemo(test);

const header = (page) => page.textContent('header .phone');
const state = (page) => page.evaluate(() => window.callswap.state());

test('the demo: static number, consent, the same dynamic number on every page, a call on the report, withdrawal', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const requests = recordRequests(page);
  await page.goto(`${env.demo.siteUrl}/?utm_source=google&utm_medium=cpc&gclid=DemoClickId-42`);
  await page.evaluate(() => window.callswap.ready);
  // Before consent: the Google Ads static number, written as the page writes its own.
  assert.equal(await header(page), '030 111 11 11');
  assert.deepEqual(await state(page), { mode: 'static', source: 'google-ads', number: '+49301111111' });
  assert.equal(await page.textContent('footer [data-callswap-noswap]'), 'Impressum: Gartenbau Beispiel GmbH, Tel. 030 1234567 (bleibt immer gleich)');
  assert.equal((await context.cookies()).filter((c) => c.name === 'callswap').length, 0);
  assert.ok(!requests.some((r) => r.method === 'POST'));

  // The real banner: accept.
  await page.getByRole('button', { name: 'Akzeptieren', exact: true }).click();
  await until(page, () => window.callswap.state().mode === 'dynamic');
  const dynamic = await state(page);
  assert.match(dynamic.number, /^\+4930900000\d$/);
  assert.equal(dynamic.source, 'google-ads');
  assert.equal(await page.textContent('#demo-mode'), 'Nummer nur für diesen Besuch');

  // Another page: the same number, no new request for one.
  const before = requests.filter((r) => r.method === 'POST' && r.url.includes('/sessions')).length;
  await page.click('nav >> text=Kontakt');
  await page.evaluate(() => window.callswap.ready);
  await until(page, () => window.callswap.state().mode === 'dynamic');
  assert.deepEqual(await state(page), dynamic);
  assert.equal(await page.getAttribute('#berlin', 'href'), `tel:${dynamic.number}`);
  assert.equal(requests.filter((r) => r.method === 'POST' && r.url.includes('/sessions')).length, before);

  // The single-page app: content added after load, and on a click, is swapped too.
  await page.click('nav >> text=Filialen (App)');
  await until(page, () => window.callswap.state().mode === 'dynamic');
  await page.waitForSelector('.branch');
  await page.click('#more');
  await until(page, () => document.querySelectorAll('.branch').length === 4);
  const digits = dynamic.number.slice(3);
  await until(page, (d) => [...document.querySelectorAll('.branch a')].every((a) => a.href.endsWith(d)), digits);
  const branchTexts = await page.$$eval('.branch a', (links) => links.map((a) => a.textContent));
  assert.equal(branchTexts.length, 4);
  assert.ok(branchTexts.every((t) => t.replace(/\D/g, '').endsWith(digits.slice(2))), branchTexts.join(' | '));

  // Simulate a call to the number on screen: attributed to this visit.
  await page.click('#simulate-call');
  await page.waitForFunction(() => document.getElementById('call-result').textContent.includes('zugeordnet'));
  assert.match(await page.textContent('#call-result'), /zugeordnet zu diesem Besuch/);
  // Accepted with marketing: the call is in the Google Ads feed, with the visit's click id.
  const feed = await (await fetch(`${env.demo.siteUrl}/demo/google-ads.csv`)).text();
  assert.match(feed, /^Parameters:TimeZone=Europe\/Berlin\r\nGoogle Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\r\n/);
  assert.match(feed, /\r\nDemoClickId-42,Anruf,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,50\.00,EUR\r\n$/);

  // The admin report shows it, on the chart too.
  const admin = await context.newPage();
  await admin.goto(`${env.demo.callswapUrl}/admin`);
  await admin.fill('#key', env.demo.adminKey);
  await admin.dispatchEvent('#key', 'change');
  await admin.waitForSelector('#site option[value="demo"]', { state: 'attached' });
  await admin.click('button[type=submit]');
  await admin.waitForSelector('#report:not([hidden])');
  assert.ok((await admin.$$eval('#tiles .tile', (n) => n.map((t) => t.textContent))).includes('1calls'));
  assert.deepEqual(await admin.$$eval('#calls-chart rect', (n) => n.map((r) => r.getAttribute('data-source'))), ['google-ads']);
  await admin.close();

  // Withdraw through the banner's settings: the static number is back, the cookie gone.
  await page.click('#cookie-settings');
  await page.getByRole('button', { name: 'Alle ablehnen', exact: true }).click();
  await until(page, () => window.callswap.state().mode === 'static');
  assert.equal(await header(page), '030 111 11 11');
  assert.equal((await context.cookies()).filter((c) => c.name === 'callswap').length, 0);

  // Consent refused, and the source still follows the visitor by the site's links
  // (data-carry-source="link"): the next page shows the Google Ads static number.
  await page.click('nav >> text=Kontakt');
  await page.evaluate(() => window.callswap.ready);
  assert.equal(new URL(page.url()).searchParams.get('callswap_source'), 'google-ads');
  assert.deepEqual(await state(page), { mode: 'static', source: 'google-ads', number: '+49301111111' });
  assert.equal((await context.cookies()).filter((c) => c.name === 'callswap').length, 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('`node examples/serve.js` prints the URLs and stops cleanly on Ctrl-C', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'serve.js'), '--site-port', '0',
    '--callswap-port', '0', '--db', path.join(env.work, 'cli.db')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  await new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (!out.includes('Ctrl-C stops it')) return;
      clearInterval(timer);
      resolve();
    }, 50);
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  assert.match(out, /Example website +http:\/\/127\.0\.0\.1:\d+\//);
  assert.match(out, /Admin report +http:\/\/127\.0\.0\.1:\d+\/admin +\(key: demo-admin-key\)/);
  const site = /Example website +(\S+)/.exec(out)[1];
  assert.equal((await fetch(site)).status, 200);
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.match(out, /stopped\./);
});
