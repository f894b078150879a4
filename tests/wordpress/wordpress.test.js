// The WordPress plugin on a real WordPress: Debian's `wordpress` package, a MariaDB server
// this test starts in a temporary folder (an unprivileged user, a Unix socket, no TCP), PHP's
// built-in server on a free loopback port, WordPress installed, the plugin activated and
// configured over HTTP as an administrator would, and Chromium visiting a post with the real
// callswap-server behind it. Every process is stopped and the folder removed, also on failure.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { launchBrowser, startCallswap, openPage, until, root } = require('../browser/harness.js');

const WORDPRESS = process.env.CALLSWAP_WORDPRESS_DIR || '/usr/share/wordpress';
const PLUGIN = path.join(root, 'integrations', 'wordpress', 'callswap');
// What a consent plugin on the page provides: the WP Consent API's browser side (the same
// faithful implementation the SDK's browser tests use).
const WP_CONSENT_API_JS = path.join(root, 'tests', 'browser', 'fixtures', 'wp-consent-api.js');
const SITE = 'wpshop';
const ADMIN = { user: 'admin', password: crypto.randomBytes(12).toString('hex') };
// The site's own number, its static tracking number and the pool's number.
const OWN = '+49301234567';
const STATIC = '+49301111115';
const POOL = '+49309000077';

const processes = [];
let work = '';
function cleanup() {
  for (const child of processes) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
/** Stops every process this test started and waits until they are gone. */
async function stopAll() {
  const exits = processes.filter((c) => c.exitCode === null && c.signalCode === null)
    .map((c) => new Promise((resolve) => c.on('exit', resolve)));
  cleanup();
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 15000))]);
  for (const child of processes) {
    child.stdout.destroy();
    child.stderr.destroy();
  }
}
process.on('exit', () => {
  cleanup();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function start(command, args, options = {}) {
  // Its own process group: PHP's workers and runuser's mariadbd are stopped with it. And a
  // lifetime: should this test be killed outright, nothing it started outlives it by long.
  const child = spawn('timeout', ['--kill-after=10', '240', command, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  child.output = '';
  child.stdout.on('data', (chunk) => { child.output += chunk; });
  child.stderr.on('data', (chunk) => { child.output += chunk; });
  processes.push(child);
  return child;
}

// mariadbd refuses to run as root: as root, the database belongs to 'nobody'.
const asRoot = process.getuid() === 0;
const unprivileged = (command, args) => (asRoot ? ['runuser', ['-u', 'nobody', '--', command, ...args]] : [command, args]);

async function startMariaDb() {
  const dataDir = path.join(work, 'db');
  fs.mkdirSync(dataDir);
  if (asRoot) execFileSync('chown', ['nobody', dataDir]);
  const socket = path.join(dataDir, 'mysqld.sock');
  execFileSync(...unprivileged('mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`,
    // --force: the script also refuses a machine whose hostname does not resolve (a bare
    // container or chroot without /etc/hosts), which a socket-only server never needs.
    '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', '--force']), { stdio: 'pipe' });
  const server = start(...unprivileged('mariadbd', ['--no-defaults', `--datadir=${dataDir}`, `--socket=${socket}`,
    '--skip-networking', `--pid-file=${path.join(dataDir, 'mariadb.pid')}`, '--innodb-buffer-pool-size=32M']));
  const sql = (statement) => execFileSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-N', '-e', statement],
    { encoding: 'utf8' });
  await waitFor(`MariaDB (${server.output})`, () => sql('SELECT 1').trim() === '1');
  return { socket, sql };
}

function writeWordPress(socket, dbPassword) {
  const dir = path.join(work, 'wordpress');
  // A copy of Debian's tree: its wp-config.php reads /etc/wordpress, which a test must not
  // touch; this copy gets its own, and its own wp-content with the plugin in it.
  execFileSync('cp', ['-a', WORDPRESS, dir]);
  fs.rmSync(path.join(dir, 'wp-config.php'));
  const salts = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT',
    'NONCE_SALT'].map((name) => `define('${name}', '${crypto.randomBytes(24).toString('hex')}');`).join('\n');
  fs.writeFileSync(path.join(dir, 'wp-config.php'), `<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', '${dbPassword}');
define('DB_HOST', 'localhost:${socket}');
define('DB_CHARSET', 'utf8mb4');
${salts}
$table_prefix = 'wp_';
// Offline and single-purpose: no calls to wordpress.org, no cron requests to itself.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', true);
define('WP_DEBUG_DISPLAY', false);
define('WP_DEBUG_LOG', '${path.join(work, 'wp-debug.log')}');
define('CALLSWAP_TEST_WP_CONSENT_API_JS', '${WP_CONSENT_API_JS}');
define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
`);
  fs.cpSync(PLUGIN, path.join(dir, 'wp-content', 'plugins', 'callswap'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'wp-content', 'mu-plugins'));
  fs.copyFileSync(path.join(__dirname, 'wp-consent-api-stand-in.php'), path.join(dir, 'wp-content', 'mu-plugins', 'wp-consent-api.php'));
  return dir;
}

/** An HTTP client with a cookie jar, as a browser session in the admin. */
function session(origin) {
  const jar = new Map();
  return {
    jar,
    async request(pathname, { method = 'GET', form, cookies = true } = {}) {
      const headers = {};
      if (cookies && jar.size) headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      let body;
      if (form) {
        body = new URLSearchParams(form).toString();
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
      }
      // node:http, not fetch: it hands over every Set-Cookie line on the Node.js 18 that
      // Debian ships, whose fetch has no Headers.getSetCookie().
      const response = await new Promise((resolve, reject) => {
        const request = http.request(origin + pathname, { method, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve({ res, text }));
        });
        request.on('error', reject);
        request.end(body);
      });
      if (cookies) {
        for (const line of response.res.headers['set-cookie'] || []) {
          const [pair] = line.split(';');
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
      }
      return { status: response.res.statusCode, location: response.res.headers.location || '', text: response.text };
    },
  };
}

const field = (html, name) => {
  const found = new RegExp(`name="${name.replace(/[[\]]/g, '\\$&')}"[^>]*value="([^"]*)"`).exec(html) ||
    new RegExp(`value="([^"]*)"[^>]*name="${name.replace(/[[\]]/g, '\\$&')}"`).exec(html);
  return found ? found[1].replaceAll('&amp;', '&') : null;
};

const env = {};

test.before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-wp-'));
  fs.chmodSync(work, 0o755); // 'nobody' runs the database inside
  const db = await startMariaDb();
  const dbPassword = crypto.randomBytes(12).toString('hex');
  db.sql(`CREATE DATABASE wordpress; CREATE USER 'wordpress'@'localhost' IDENTIFIED BY '${dbPassword}';
    GRANT ALL ON wordpress.* TO 'wordpress'@'localhost';`);
  env.sql = db.sql;
  const docroot = writeWordPress(db.socket, dbPassword);
  const port = await freePort();
  env.origin = `http://127.0.0.1:${port}`;
  // Several workers: the admin's redirects and the SDK's requests arrive together.
  env.php = start('php', ['-S', `127.0.0.1:${port}`, '-t', docroot], { env: { ...process.env, PHP_CLI_SERVER_WORKERS: '4' } });
  await waitFor(`PHP's server (${env.php.output})`, async () => (await fetch(`${env.origin}/wp-admin/install.php`)).status === 200);

  const sources = [{ id: 'direct', static: STATIC, default: true, pool: 'web' }];
  const signals = ['wp_consent_api'];
  env.callswap = await startCallswap([{
    config: { site: SITE, country: 'DE', targets: [OWN], pools: ['web'], sources, consent: { require: 'any', signals } },
    allowed_origins: [env.origin],
    pools: { web: { numbers: [POOL] } },
  }]);
  env.browser = await launchBrowser();
});

test.after(async () => {
  if (env.browser) await env.browser.close();
  if (env.callswap) await env.callswap.stop();
  await stopAll();
});

test('WordPress installs, the administrator logs in and activates the plugin', async () => {
  const admin = session(env.origin);
  const install = await admin.request('/wp-admin/install.php?step=2', { method: 'POST', form: {
    weblog_title: 'callswap test shop', user_name: ADMIN.user, admin_password: ADMIN.password, admin_password2: ADMIN.password,
    pw_weak: 'on', admin_email: 'owner@shop.example', blog_public: '0', language: '' } });
  assert.match(install.text, /Success!/, 'WordPress installs');

  admin.jar.set('wordpress_test_cookie', 'WP%20Cookie%20check');
  const login = await admin.request('/wp-login.php', { method: 'POST', form: {
    log: ADMIN.user, pwd: ADMIN.password, 'wp-submit': 'Log In', redirect_to: `${env.origin}/wp-admin/`, testcookie: '1' } });
  assert.equal(login.status, 302, 'the login redirects to the dashboard');
  assert.ok([...admin.jar.keys()].some((name) => name.startsWith('wordpress_logged_in_')), 'the login cookie is set');

  const plugins = await admin.request('/wp-admin/plugins.php');
  const activate = /href="(plugins\.php\?action=activate&amp;plugin=callswap%2Fcallswap\.php[^"]*)"/.exec(plugins.text);
  assert.ok(activate, 'the plugin is listed with an activation link');
  const activated = await admin.request(`/wp-admin/${activate[1].replaceAll('&amp;', '&')}`);
  assert.equal(activated.status, 302);
  assert.match((await admin.request('/wp-admin/plugins.php')).text, /plugin=callswap%2Fcallswap\.php[^"]*action=deactivate|action=deactivate&amp;plugin=callswap%2Fcallswap\.php/,
    'the plugin is active');
  env.admin = admin;
});

async function saveSettings(client, values, { nonce } = {}) {
  const page = await env.admin.request('/wp-admin/options-general.php?page=callswap');
  const form = {
    option_page: 'callswap', action: 'update',
    _wpnonce: nonce === undefined ? field(page.text, '_wpnonce') : nonce,
    _wp_http_referer: field(page.text, '_wp_http_referer'),
  };
  for (const [key, value] of Object.entries(values)) form[`callswap_settings[${key}]`] = value;
  return client.request('/wp-admin/options.php', { method: 'POST', form });
}

test('the settings page saves the server, the site and the selectors to leave alone', async () => {
  const saved = await saveSettings(env.admin, { server_url: `${env.callswap.url}/`, site_id: SITE, noswap_selectors: '.imprint\n\n#fax' });
  assert.equal(saved.status, 302);
  assert.match(saved.location, /options-general\.php\?page=callswap&settings-updated=true/);
  const page = (await env.admin.request('/wp-admin/options-general.php?page=callswap')).text;
  assert.equal(field(page, 'callswap_settings[server_url]'), env.callswap.url, 'the URL is kept without its trailing slash');
  assert.equal(field(page, 'callswap_settings[site_id]'), SITE);
  assert.match(page, /<textarea[^>]*callswap_settings\[noswap_selectors\][^>]*>\.imprint\n#fax<\/textarea>/);
});

test('the settings page refuses a server URL that is not https and escapes what it shows', async () => {
  for (const bad of ['http://track.example.com', 'ftp://track.example.com', 'https://user:pw@track.example.com',
    'https://track.example.com/?x=1', 'javascript:alert(1)', 'https://"><script>alert(1)</script>']) {
    const saved = await saveSettings(env.admin, { server_url: bad, site_id: SITE, noswap_selectors: '.imprint' });
    assert.equal(saved.status, 302, bad);
    // WordPress shows the errors of a save on the page it redirects to.
    const page = (await env.admin.request(new URL(saved.location, env.origin).pathname + new URL(saved.location, env.origin).search)).text;
    assert.match(page, /is not an https:\/\/ address/, `an error is shown for ${bad}`);
    assert.equal(field(page, 'callswap_settings[server_url]'), env.callswap.url, `the previous URL is kept (${bad})`);
    assert.ok(!page.includes('<script>alert(1)</script>'), 'the owner\'s input never becomes markup');
  }
  const settings = env.sql("SELECT option_value FROM wordpress.wp_options WHERE option_name = 'callswap_settings'");
  assert.ok(settings.includes(env.callswap.url) && !settings.includes('example.com'), settings);
  // The server's routes take only lower-case site ids: "Acme" would be saved and then 404.
  for (const bad of ['Acme', 'acme site', 'a'.repeat(65)]) {
    const saved = await saveSettings(env.admin, { server_url: `${env.callswap.url}/`, site_id: bad, noswap_selectors: '.imprint' });
    const page = (await env.admin.request(new URL(saved.location, env.origin).pathname + new URL(saved.location, env.origin).search)).text;
    assert.match(page, /may only have lower-case letters/, `an error is shown for ${bad}`);
    assert.equal(field(page, 'callswap_settings[site_id]'), SITE, `the previous site id is kept (${bad})`);
  }
});

test('saving without the form\'s nonce, or logged out, changes nothing', async () => {
  const forged = await saveSettings(env.admin, { server_url: 'https://evil.example', site_id: 'evil' }, { nonce: 'forged' });
  assert.equal(forged.status, 403, 'a wrong nonce is refused');
  const stranger = session(env.origin);
  const anonymous = await saveSettings(stranger, { server_url: 'https://evil.example', site_id: 'evil' });
  assert.ok(anonymous.status === 302 && anonymous.location.includes('wp-login.php'), 'logged out: sent to the login');
  const settings = env.sql("SELECT option_value FROM wordpress.wp_options WHERE option_name = 'callswap_settings'");
  assert.ok(!settings.includes('evil'), settings);
});

test('a user without manage_options cannot open or save the settings', async () => {
  const form = await env.admin.request('/wp-admin/user-new.php');
  const password = crypto.randomBytes(12).toString('hex');
  const created = await env.admin.request('/wp-admin/user-new.php', { method: 'POST', form: {
    action: 'createuser', '_wpnonce_create-user': field(form.text, '_wpnonce_create-user'), user_login: 'reader',
    email: 'reader@shop.example', pass1: password, pass2: password, pw_weak: 'on', role: 'subscriber' } });
  assert.equal(created.status, 302, 'the administrator creates a subscriber');
  const reader = session(env.origin);
  reader.jar.set('wordpress_test_cookie', 'WP%20Cookie%20check');
  const login = await reader.request('/wp-login.php', { method: 'POST', form: { log: 'reader', pwd: password, testcookie: '1' } });
  assert.equal(login.status, 302);
  const page = await reader.request('/wp-admin/options-general.php?page=callswap');
  assert.equal(page.status, 403, 'the settings page is refused');
  assert.ok(!page.text.includes('callswap_settings[server_url]'));
  const adminForm = (await env.admin.request('/wp-admin/options-general.php?page=callswap')).text;
  const saved = await reader.request('/wp-admin/options.php', { method: 'POST', form: {
    option_page: 'callswap', action: 'update', _wpnonce: field(adminForm, '_wpnonce'), 'callswap_settings[site_id]': 'evil' } });
  assert.equal(saved.status, 403, 'saving is refused');
  const settings = env.sql("SELECT option_value FROM wordpress.wp_options WHERE option_name = 'callswap_settings'");
  assert.ok(!settings.includes('evil'), settings);
});

test('a visitor sees the static number before consent and the pool number after consent through the WP Consent API', async () => {
  env.sql(`UPDATE wordpress.wp_posts SET post_content = '<p class="call">Call us: 030 1234567</p>
    <p class="imprint">Imprint: 030 1234567</p>' WHERE ID = 1`);
  const { context, page, errors, state } = await openPage(env.browser, `${env.origin}/?p=1`);
  try {
    assert.deepEqual(errors, []);
    const tag = await page.$eval('script#callswap-js', (s) => ({ src: s.getAttribute('src'), site: s.dataset.site,
      server: s.dataset.server, async: s.async, referrer: s.getAttribute('referrerpolicy') }));
    assert.deepEqual(tag, { src: `${env.callswap.url}/callswap.js`, site: SITE, server: env.callswap.url, async: true, referrer: 'no-referrer' });
    assert.equal(state.mode, 'static');
    assert.equal(await page.textContent('.call'), 'Call us: 030 1111115', 'the static number before consent');
    assert.equal(await page.textContent('.imprint'), 'Imprint: 030 1234567', 'a selector to leave alone is left alone');
    assert.deepEqual((await context.cookies()).map((c) => c.name), [], 'nothing stored before consent');
    await page.evaluate(() => window.wp_set_consent('marketing', 'allow'));
    await until(page, () => window.callswap.state().mode === 'dynamic');
    assert.equal(await page.textContent('.call'), 'Call us: 030 9000077', 'the pool number after consent');
    assert.equal(await page.textContent('.imprint'), 'Imprint: 030 1234567');
  } finally {
    await context.close();
  }
});
