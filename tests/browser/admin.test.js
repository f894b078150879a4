// The admin page in Chromium against the real server: a site owner types the key,
// picks the site and reads the report, with the calls-per-source chart and the pool chart,
// and downloads the Google Ads conversion feed (times in Europe/Berlin, checked with Node's
// Intl, whose ICU time zone data is independent of the server's reading of tzdata).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { launchBrowser, startCallswap } = require('./harness.js');

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const CALLS_SECRET = 'calls-secret-0123456789abcdef';
const FEED_PASSWORD = 'feed-password-0123456789';
const CLICK_ID = 'Cj0KCQ-AdminDownload_7';
// "yyyy-MM-dd HH:mm:ss" in Berlin by ICU (the Swedish format is ISO-like).
const berlin = (ms) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit',
  day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
const feedOf = async (platform) => (await fetch(`${callswap.url}/v1/sites/acme/conversions/${platform}.csv`,
  { headers: { Authorization: `Basic ${Buffer.from(`googleads:${FEED_PASSWORD}`).toString('base64')}` } })).text();
let callWindow;

let browser;
let callswap;
test.before(async () => {
  callswap = await startCallswap([{
    config: {
      site: 'acme', country: 'DE', targets: ['+49301234567'], pools: ['ads'],
      sources: [
        { id: 'google-ads', static: '+49301111111', pool: 'ads', match: { click_ids: ['gclid'] } },
        { id: 'newsletter', static: '+49301111113', match: { params: { utm_medium: 'email' } } },
        { id: 'direct', static: '+49301234567', default: true },
      ],
      consent: { signals: ['consent_mode'], advertising: { consent_mode: { types: ['ad_user_data'] } } },
    },
    pools: { ads: { numbers: ['+49309000001', '+49309000002'] } },
    conversions: {
      time_zone: 'Europe/Berlin',
      values: [{ source: 'google-ads', name: 'Phone call', value: 40 }],
      feeds: { username: 'googleads', password: FEED_PASSWORD },
    },
  }], {
    admin_keys: [{ id: 'owner', sha256: sha256('owner-key'), scopes: ['reports'] }],
    webhooks: { calls_secret: CALLS_SECRET },
  });
  // A visit with a dynamic number and a call to it; a call to a static number.
  const session = await (await fetch(`${callswap.url}/v1/sites/acme/sessions`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ source: 'google-ads', consent: true,
      ids: { click_id: { type: 'gclid', value: CLICK_ID, consent: 'consent_mode' } } }) })).json();
  const call = async (body) => {
    const text = JSON.stringify(body);
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = crypto.createHmac('sha256', CALLS_SECRET).update(`${ts}.${text}`).digest('hex');
    const r = await fetch(`${callswap.url}/v1/webhooks/calls`, { method: 'POST', body: text,
      headers: { 'Content-Type': 'application/json', 'X-Callswap-Timestamp': ts, 'X-Callswap-Signature': `sha256=${signature}` } });
    assert.equal(r.status, 201, await r.text());
  };
  callWindow = [Date.now()];
  await call({ call_id: 'c1', to: session.number, from: '+4915112345678', status: 'completed', duration_seconds: 75 });
  callWindow.push(Date.now());
  await call({ call_id: 'c2', to: '+49301111113', from: '+4917699887766', status: 'no-answer' });
  browser = await launchBrowser();
});
test.after(async () => {
  await browser.close();
  await callswap.stop();
});

// The site owner's steps: the page, the key, the site, "Show report".
async function showReport(page) {
  await page.goto(`${callswap.url}/admin`);
  await page.fill('#key', 'owner-key');
  await page.dispatchEvent('#key', 'change');
  await page.waitForSelector('#site option[value="acme"]', { state: 'attached' });
  await page.click('button[type=submit]');
}

test('the admin page shows the report with its charts', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await showReport(page);
  await page.waitForSelector('#report:not([hidden])');
  const tiles = await page.$$eval('#tiles .tile', (nodes) => nodes.map((n) => n.textContent));
  assert.ok(tiles.includes('2calls'), tiles.join('|'));
  assert.ok(tiles.includes('1answered'));
  assert.ok(tiles.includes('1missed'));
  // One bar segment per source with calls today, titled with its count.
  const bars = await page.$$eval('#calls-chart rect', (nodes) => nodes.map((n) => n.getAttribute('data-source')).sort());
  assert.deepEqual(bars, ['google-ads', 'newsletter']);
  const legend = await page.$$eval('#legend span', (nodes) => nodes.map((n) => n.textContent));
  assert.deepEqual(legend, ['google-ads', 'newsletter']);
  const sources = await page.$$eval('#sources tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  // No caller keys are configured here, so callers are not recognised: no first-time callers.
  assert.deepEqual(sources, [['google-ads', '—', '1', '1', '0', '1 min 15 s', '0'], ['newsletter', '—', '1', '0', '1', '0 s', '0']]);
  const pools = await page.$$eval('#pools tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(pools.map((r) => r.slice(0, 3)), [['ads', '2', '1']]);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a wrong key is refused on the page, with the server\'s reason', async () => {
  const page = await browser.newPage();
  await page.goto(`${callswap.url}/admin`);
  await page.fill('#key', 'guess');
  await page.dispatchEvent('#key', 'change');
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  assert.equal(await page.textContent('#status'), 'unknown admin API key');
  const csp = (await page.goto(`${callswap.url}/admin`)).headers()['content-security-policy'];
  assert.match(csp, /default-src 'self'/);
  await page.close();
});

test('the report page downloads the Google Ads feed as the platform fetches it, taking nothing from it', async () => {
  const before = await feedOf('google-ads');
  const line = before.split('\r\n')[2];
  assert.ok(before.startsWith('Parameters:TimeZone=Europe/Berlin\r\nGoogle Click ID,'), before);
  // The call's time in Berlin, to the second it was recorded in.
  assert.ok(callWindow.map((ms) => `${CLICK_ID},Phone call,${berlin(Math.floor(ms / 1000) * 1000)},40.00,EUR`).includes(line),
    `${line} vs ${callWindow.map(berlin)}`);

  const page = await browser.newPage({ acceptDownloads: true });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await showReport(page);
  await page.waitForSelector('#conversions:not([hidden])');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#conversions button[data-platform="google-ads"]')]);
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(download.suggestedFilename(), `acme-google-ads-conversions-${today}.csv`);
  const saved = fs.readFileSync(await download.path(), 'utf8');
  assert.equal(saved, before);
  // The platform's next fetch still lists the call: a download marks nothing as exported.
  assert.equal(await feedOf('google-ads'), before);
  const [microsoft] = await Promise.all([page.waitForEvent('download'), page.click('#conversions button[data-platform="microsoft-ads"]')]);
  assert.equal(microsoft.suggestedFilename(), `acme-microsoft-ads-conversions-${today}.csv`);
  assert.equal(fs.readFileSync(await microsoft.path(), 'utf8'), await feedOf('microsoft-ads'));
  assert.deepEqual(errors, []);
  await page.close();
});
