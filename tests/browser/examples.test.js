// Every integration example in examples/, served by the demo server and driven in
// Chromium: before consent the static number and no cookie; after the example's own
// "accept" a dynamic number and the cookie; after its "reject" the static number again.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { useDemo, startCallswap, until } = require('./harness.js');

const env = useDemo(test);

const click = (selector) => (page) => page.click(selector);
const EXAMPLES = {
  tcf: { accept: click('#accept'), reject: click('#reject'), ready: () => window.__tcfapi && document.getElementById('accept') },
  'consent-mode': { accept: click('#accept'), reject: click('#reject') },
  cookieconsent: {
    accept: (page) => page.getByRole('button', { name: 'Accept', exact: true }).click(),
    reject: (page) => page.evaluate(() => window.CookieConsent.acceptCategory([])),
  },
  klaro: {
    accept: (page) => page.evaluate(() => {
      const manager = window.klaro.getManager();
      manager.updateConsent('callswap', true);
      manager.saveAndApplyConsents();
    }),
    reject: (page) => page.evaluate(() => {
      const manager = window.klaro.getManager();
      manager.changeAll(false);
      manager.saveAndApplyConsents();
    }),
    ready: () => window.klaro?.getManager(),
  },
  onetrust: { accept: click('#accept'), reject: click('#reject') },
  cookiebot: { accept: click('#accept'), reject: click('#reject') },
  usercentrics: { accept: click('#accept'), reject: click('#reject') },
  gtm: { accept: click('#accept'), reject: click('#reject'), ready: () => window.callswap },
};

const phone = (page) => page.textContent('a.phone');
const callswapCookie = async (context) => (await context.cookies()).some((c) => c.name === 'callswap');

for (const [name, steps] of Object.entries(EXAMPLES)) {
  test(`examples/${name}: static, accept → dynamic, reject → static`, async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${env.demo.siteUrl}/${name}/`);
    if (steps.ready) await until(page, steps.ready);
    await page.waitForFunction(() => window.callswap?.ready);
    await page.evaluate(() => window.callswap.ready);
    assert.equal(await phone(page), '030 123 45 67', 'the direct source shows the site number');
    assert.equal(await page.getAttribute('a.phone', 'href'), 'tel:+49301234567');
    assert.equal(await callswapCookie(context), false);
    await steps.accept(page);
    await until(page, () => window.callswap.state().mode === 'dynamic');
    const { number } = await page.evaluate(() => window.callswap.state());
    assert.equal(await page.getAttribute('a.phone', 'href'), `tel:${number}`);
    assert.equal((await phone(page)).replace(/\D/g, ''), `0${number.slice(3)}`);
    assert.equal(await callswapCookie(context), true);
    await steps.reject(page);
    await until(page, () => window.callswap.state().mode === 'static');
    assert.equal(await phone(page), '030 123 45 67');
    assert.equal(await callswapCookie(context), false);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('examples/amp: amp-call-tracking gets the number from the AMP endpoint, under AMP\'s CORS rules', async () => {
  // The AMP runtime itself comes from Google's CDN, which this machine cannot reach: the test
  // makes the request amp-call-tracking makes, from the page, with credentials.
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await context.route('https://cdn.ampproject.org/**', (route) => route.abort());
  await page.goto(`${env.demo.siteUrl}/amp/`);
  const config = await page.getAttribute('amp-call-tracking', 'config');
  assert.equal(config, `${env.demo.callswapUrl}/amp/v1/sites/demo/number`);
  const answer = await page.evaluate(async (url) => {
    const response = await fetch(`${url}?__amp_source_origin=${encodeURIComponent(location.origin)}`, { credentials: 'include' });
    return { body: await response.json(), source: response.headers.get('AMP-Access-Control-Allow-Source-Origin') };
  }, config);
  assert.deepEqual(answer.body, { phoneNumber: '+49301234567', formattedPhoneNumber: '030 1234567' });
  assert.equal(answer.source, env.demo.siteUrl);
  await context.close();
});

test('examples/twilio: a status callback signed as Twilio signs it is verified and recorded', async () => {
  // The demo server has no Twilio token: start one that has, with the same config shape.
  const token = 'twilio-token-for-the-example-0123';
  const server = await startCallswap([{
    config: { site: 'demo', country: 'DE', targets: ['+49301234567'], sources: [{ id: 'direct', static: '+49301234567', default: true }] },
  }], { webhooks: { twilio_auth_token: token }, public_url: 'https://track.example.com' });
  const run = (args) => new Promise((resolve) => execFile(process.execPath,
    [path.join(__dirname, '..', '..', 'examples', 'twilio', 'status-callback.js'), ...args], (error, stdout) => resolve({ code: error ? error.code : 0, stdout })));
  const ok = await run(['--server', server.url, '--public-url', 'https://track.example.com', '--token', token, '--to', '+49301234567',
    '--from', '+4915112345678', '--call-sid', 'CA0123']);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^201 \{"call":"CA0123","new":true,"attribution":"static","source":"direct"\}/);
  const forged = await run(['--server', server.url, '--public-url', 'https://track.example.com', '--token', 'wrong', '--to', '+49301234567']);
  assert.equal(forged.code, 1);
  assert.match(forged.stdout, /^403 /);
  await server.stop();
});
