// What the browser tests share: Debian's Chromium driven by playwright-core, the real
// callswap-server (a fresh SQLite file each time) serving dist/ and the API, and a second
// origin serving the test pages and the real CMP libraries from node_modules.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { startCallswap: startCallswapWithLog, root, dist } = require('../../scripts/lib/callswap-server.js');
const { launchBrowser, startSite: startAnySite } = require('../../scripts/lib/test-site.js');

/** The test site: pages the tests write and files from tests/browser/, /dist/ and /node_modules/. */
function startSite() {
  return startAnySite({ pagesDir: __dirname });
}

/**
 * callswap-server as an operator runs it, on a fresh SQLite file, serving dist/; its log
 * goes to the privacy scan when it stops.
 */
function startCallswap(sites, extra = {}) {
  return startCallswapWithLog(sites, extra, { onStop: keepLog });
}

/**
 * The site most browser tests use: acme in Germany, one target, a Google Ads source (by
 * gclid) and a default source, both with the pool "ads". `extra` replaces top-level fields.
 */
function acmeConfig(extra = {}) {
  return {
    site: 'acme',
    country: 'DE',
    targets: ['+49301234567'],
    pools: ['ads'],
    sources: [
      { id: 'google-ads', static: '+49301111111', pool: 'ads', match: { click_ids: ['gclid'] } },
      { id: 'direct', static: '+49309876543', pool: 'ads', default: true },
    ],
    ...extra,
  };
}

/** Every server log line of the suite goes to one place the privacy scan reads (tests/privacy). */
function keepLog(text) {
  if (process.env.CALLSWAP_TEST_LOG_DIR) fs.appendFileSync(path.join(process.env.CALLSWAP_TEST_LOG_DIR, 'browser.log'), text);
}

/**
 * The usual setup of a browser test file: the test site, callswap-server with the site
 * entries `sites(siteOrigin)` returns, and Chromium, all stopped after the file. The
 * returned object is filled in before the first test: {site, callswap, browser}.
 */
function useSiteAndServer(test, sites, extra = {}) {
  const env = { dist };
  test.before(async () => {
    env.site = await startSite();
    env.callswap = await startCallswap(sites(env.site.origin), extra);
    env.site.callswapUrl = env.callswap.url;
    env.browser = await launchBrowser();
  });
  test.after(async () => {
    await env.browser.close();
    await env.callswap.stop();
    await env.site.close();
  });
  return env;
}

/** The same for the demo (examples/serve.js on free ports): {demo, browser}. */
function useDemo(test) {
  const { startDemo } = require('../../examples/serve.js');
  const env = {};
  test.before(async () => {
    env.work = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-demo-'));
    env.demo = await startDemo({ sitePort: 0, callswapPort: 0, database: path.join(env.work, 'demo.db') });
    env.browser = await launchBrowser();
  });
  test.after(async () => {
    await env.browser.close();
    await env.demo.stop();
    keepLog(env.demo.callswapLog());
    fs.rmSync(env.work, { recursive: true, force: true });
  });
  return env;
}

/**
 * Opens `url` in a context of its own (no cookies from other tests; close the context), records
 * page errors, console warnings and errors, and every request, and waits for callswap.ready.
 * `init` runs in the page before any of its scripts.
 */
async function openPage(browser, url, { init } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const warnings = [];
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
    else if (message.type() === 'error') consoleErrors.push(message.text());
  });
  const requests = recordRequests(page);
  await page.goto(url);
  await page.waitForFunction(() => window.callswap?.ready);
  const state = await page.evaluate(() => window.callswap.ready);
  return { context, page, errors, warnings, consoleErrors, requests, state };
}

/** Records every request a page makes, with the headers the browser really sent. */
function recordRequests(page) {
  const requests = [];
  page.on('request', async (request) => {
    const entry = { url: request.url(), method: request.method(), type: request.resourceType(), body: request.postData() };
    requests.push(entry);
    try {
      entry.headers = await request.allHeaders();
    } catch (error) {
      // The page closed before Chromium reported the headers sent (a request at teardown):
      // keep what Playwright knew when the request started, and say so.
      entry.headers = request.headers();
      entry.headersProvisional = String(error.message || error);
    }
  });
  return requests;
}

/** Everything the page can have written on the device: cookies and web storage, IndexedDB names. */
async function deviceState(page) {
  const cookies = await page.context().cookies();
  const storage = await page.evaluate(async () => ({
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
    indexedDB: indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [],
  }));
  return { cookies: cookies.map((c) => c.name), ...storage };
}

/** Waits until `predicate` (run in the page) is true. */
function until(page, predicate, arg) {
  return page.waitForFunction(predicate, arg, { timeout: 10000, polling: 50 });
}

/** A loopback port nothing listens on (a server that is down). */
async function closedPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

module.exports = { acmeConfig, launchBrowser, closedPort, keepLog, useSiteAndServer, useDemo, openPage, startSite, startCallswap, recordRequests, deviceState, until, root, dist };
