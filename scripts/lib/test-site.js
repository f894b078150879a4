// A local web site for driving the SDK in Debian's Chromium: what the browser tests
// (tests/browser/harness.js) and the browser benchmarks (bench/browser/) share.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { root, dist } = require('./callswap-server.js');

const chromiumPath = process.env.CALLSWAP_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.json': 'application/json', '.css': 'text/css', '.wasm': 'application/wasm' };

function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_FLAGS });
}

/**
 * The site: pages a caller writes (`site.pages[path] = html`), files from `pagesDir` (with
 * {{CALLSWAP}} replaced by `site.callswapUrl` in HTML), /dist/ and /node_modules/.
 */
async function startSite({ pagesDir } = {}) {
  // pages: path → HTML written by a caller; headers: path → extra response headers.
  // files: path → {type, body} served as they are (a caller's own copy of the SDK files).
  const site = { callswapUrl: '', headers: {}, pages: {}, files: {} };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (site.files[url.pathname]) {
      res.writeHead(200, { 'Content-Type': site.files[url.pathname].type });
      return res.end(site.files[url.pathname].body);
    }
    if (site.pages[url.pathname] !== undefined) {
      res.writeHead(200, { 'Content-Type': TYPES['.html'], ...(site.headers[url.pathname] || {}) });
      return res.end(site.pages[url.pathname].replaceAll('{{CALLSWAP}}', site.callswapUrl));
    }
    // /dist/: a site that hosts the SDK files itself.
    const file = url.pathname.startsWith('/node_modules/')
      ? path.join(root, path.normalize(url.pathname))
      : url.pathname.startsWith('/dist/')
        ? path.join(dist, path.normalize(url.pathname.slice('/dist'.length)))
        : pagesDir && path.join(pagesDir, path.normalize(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file || !(file.startsWith(root) || file.startsWith(dist)) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found');
    }
    let body = fs.readFileSync(file);
    if (file.endsWith('.html')) body = body.toString().replaceAll('{{CALLSWAP}}', site.callswapUrl);
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      ...(site.headers[url.pathname] || {}),
    });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  site.origin = `http://127.0.0.1:${server.address().port}`;
  site.url = (p) => `${site.origin}${p}`;
  site.close = () => new Promise((resolve) => server.close(resolve));
  return site;
}

module.exports = { launchBrowser, startSite };
