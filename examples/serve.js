#!/usr/bin/env node
// The demo (`make demo`): starts callswap-server on a fresh SQLite file with the
// demo operator config, serves the example website and every integration example, and
// signs the "simulate a call" requests of the demo toolbar as a telephony provider would.
//   node examples/serve.js [--site-port 8000] [--callswap-port 8080] [--db build/demo/callswap.db]
// Ctrl-C (or SIGTERM) stops both servers cleanly.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { startCallswapServer } = require('../scripts/lib/callswap-server.js');

const root = path.join(__dirname, '..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.md': 'text/plain; charset=utf-8' };
// What the example pages may load from node_modules: the consent platforms, nothing else.
const PACKAGES = ['vanilla-cookieconsent', 'klaro', '@iabtechlabtcf/stub', '@iabtechlabtcf/cmpapi', '@iabtechlabtcf/core'];

/** The demo's operator config: one site, "demo", whose pages are served from `siteOrigin`. */
function demoConfig(siteOrigin, { database, port }) {
  const site = JSON.parse(fs.readFileSync(path.join(__dirname, 'site', 'site-config.json'), 'utf8'));
  return {
    listen: `127.0.0.1:${port}`,
    database,
    static_dir: path.join(root, 'dist'),
    public_url: `http://127.0.0.1:${port}`,
    sites: [{
      config: site,
      allowed_origins: [siteOrigin],
      pools: { web: { numbers: Array.from({ length: 10 }, (_, i) => `+4930900000${i}`), hold_minutes: 30, cooldown_minutes: 1 } },
      retention: { sessions_days: 30, calls_days: 90, audit_days: 365 },
      // The Google Ads feed (docs/conversions.md); the demo's /demo/google-ads.csv fetches it.
      conversions: { values: [{ source: 'google-ads', name: 'Anruf', value: 50 }], time_zone: 'Europe/Berlin',
        feeds: { username: 'demo', password: { env: 'CALLSWAP_DEMO_FEED_PASSWORD' } } },
    }],
    admin_keys: [{ id: 'demo', sha256: crypto.createHash('sha256').update(DEMO_ADMIN_KEY).digest('hex'), scopes: ['reports', 'subjects'] }],
    caller_numbers: { keys: [{ id: 'demo', key: { env: 'CALLSWAP_DEMO_CALLER_KEY' } }], current: 'demo', hash_key: { env: 'CALLSWAP_DEMO_HASH_KEY' } },
    webhooks: { calls_secret: { env: 'CALLSWAP_DEMO_CALLS_SECRET' } },
  };
}

const DEMO_ADMIN_KEY = 'demo-admin-key';

// The demo toolbar's "simulate a call": a signed call event for the number on screen, as
// a telephony provider would send it (docs/api.md, /v1/webhooks/calls).
async function simulateCall(callswapUrl, secret, to) {
  const body = JSON.stringify({
    call_id: `demo-${crypto.randomUUID()}`,
    to,
    from: `+4915${String(crypto.randomInt(100000000, 999999999))}`,
    status: 'completed',
    duration_seconds: crypto.randomInt(20, 400),
  });
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = crypto.createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
  const response = await fetch(`${callswapUrl}/v1/webhooks/calls`, { method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Callswap-Timestamp': ts, 'X-Callswap-Signature': `sha256=${signature}` } });
  return { status: response.status, body: await response.json() };
}

/** Serves examples/ (the site at /, each integration at /<name>/) and the CMP packages. */
function serveExamples(state) {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const send = (status, type, body) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    if (req.method === 'POST' && url.pathname === '/demo/call') {
      let text = '';
      for await (const chunk of req) text += chunk;
      let to = '';
      try {
        to = JSON.parse(text).to;
      } catch {
        to = '';
      }
      if (typeof to !== 'string' || !/^\+[1-9][0-9]{5,14}$/.test(to)) {
        return send(400, TYPES['.json'], JSON.stringify({ error: { code: 'invalid_body', message: 'to: an E.164 number' } }));
      }
      const answer = await simulateCall(state.callswapUrl, state.secret, to);
      return send(answer.status, TYPES['.json'], JSON.stringify(answer.body));
    }
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed');
    // The feed as Google Ads fetches it, with the demo's user name and password.
    if (url.pathname === '/demo/google-ads.csv') {
      const feed = await fetch(`${state.callswapUrl}/v1/sites/demo/conversions/google-ads.csv`,
        { headers: { Authorization: `Basic ${Buffer.from(`demo:${state.feedPassword}`).toString('base64')}` } });
      return send(feed.status, feed.headers.get('Content-Type') || 'text/plain', await feed.text());
    }
    let file;
    if (url.pathname.startsWith('/node_modules/')) {
      const name = url.pathname.slice('/node_modules/'.length);
      if (!PACKAGES.some((p) => name.startsWith(`${p}/`))) return send(404, 'text/plain', 'not found');
      file = path.join(root, 'node_modules', path.normalize(name));
    } else {
      // The site's own pages at the root; each integration example in its folder.
      const relative = path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
      const inSite = path.join(__dirname, 'site', relative);
      file = fs.existsSync(inSite) ? inSite : path.join(__dirname, relative);
    }
    if (!file.startsWith(__dirname) && !file.startsWith(path.join(root, 'node_modules'))) return send(404, 'text/plain', 'not found');
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) return send(404, 'text/plain', 'not found');
    let body = fs.readFileSync(file);
    // The pages name the callswap server as {{CALLSWAP}}; on a real site it is your server's URL.
    if (file.endsWith('.html')) body = body.toString().replaceAll('{{CALLSWAP}}', state.callswapUrl);
    send(200, TYPES[path.extname(file)] || 'application/octet-stream', body);
  });
}

/** Starts the whole demo; resolves {siteUrl, callswapUrl, adminKey, stop()}. */
async function startDemo({ sitePort = 8000, callswapPort = 8080, database, log } = {}) {
  const state = { callswapUrl: '', secret: crypto.randomBytes(24).toString('hex'), feedPassword: crypto.randomBytes(24).toString('hex') };
  const server = serveExamples(state);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(sitePort, '127.0.0.1', resolve);
  });
  const siteUrl = `http://127.0.0.1:${server.address().port}`;
  fs.mkdirSync(path.dirname(database), { recursive: true });
  const callswap = await startCallswapServer(demoConfig(siteUrl, { database, port: callswapPort }), {
    log,
    env: {
      CALLSWAP_DEMO_CALLS_SECRET: state.secret,
      CALLSWAP_DEMO_CALLER_KEY: crypto.randomBytes(32).toString('hex'),
      CALLSWAP_DEMO_HASH_KEY: crypto.randomBytes(32).toString('hex'),
      CALLSWAP_DEMO_FEED_PASSWORD: state.feedPassword,
    },
  }).catch(async (error) => {
    await new Promise((resolve) => server.close(resolve));
    throw error;
  });
  state.callswapUrl = callswap.url;
  return {
    siteUrl,
    callswapUrl: callswap.url,
    adminKey: DEMO_ADMIN_KEY,
    callswapLog: callswap.log,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await callswap.stop();
    },
  };
}

module.exports = { startDemo };

if (require.main === module) {
  const option = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
  };
  // A fresh database each run, so the demo always starts from nothing.
  // Absolute: the server reads relative paths in its config against the config's own folder.
  const database = path.resolve(option('db', path.join(root, 'build', 'demo', 'callswap.db')));
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(database + suffix, { force: true });
  startDemo({ sitePort: Number(option('site-port', 8000)), callswapPort: Number(option('callswap-port', 8080)), database })
    .then((demo) => {
      console.log(`
callswap demo is running (Ctrl-C stops it).

  Example website      ${demo.siteUrl}/
    from a Google Ads click:  ${demo.siteUrl}/?utm_source=google&utm_medium=cpc
    from a newsletter:        ${demo.siteUrl}/?utm_source=newsletter&utm_medium=email
  Integration examples ${demo.siteUrl}/examples.html
  Admin report         ${demo.callswapUrl}/admin   (key: ${demo.adminKey})
  callswap-server      ${demo.callswapUrl}   (database ${path.relative(process.cwd(), database)})
`);
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        console.log('\nstopping…');
        await demo.stop();
        console.log('stopped.');
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    })
    .catch((error) => {
      console.error(`demo: ${error.message}`);
      process.exit(1);
    });
}
