// The npm package as a developer uses it: `npm pack`, installed offline from the tarball into
// a scratch project in a temporary folder, bundled there with esbuild, and run in Chromium
// against the real callswap-server.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const esbuild = require('esbuild');
const { launchBrowser, startCallswap, recordRequests, until, root, dist } = require('../browser/harness.js');

const packageDir = path.join(root, 'packages', 'callswap');
const packageJson = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
const SITE = 'spa';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-npm-'));
const app = path.join(work, 'app');
const env = {};

function serveFolder(folder) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    const file = path.join(folder, path.normalize(pathname.endsWith('/') ? `${pathname}index.html` : pathname));
    if (!file.startsWith(folder) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
    return res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((done) => server.close(done)),
  })));
}

test.before(async () => {
  env.site = await serveFolder(path.join(app, 'public'));
  env.callswap = await startCallswap([{
    config: { site: SITE, country: 'DE', targets: ['+49301234567'], pools: ['web'],
      sources: [{ id: 'direct', static: '+49301111115', default: true, pool: 'web' }],
      consent: { require: 'any', signals: ['manual'] } },
    allowed_origins: [env.site.origin],
    pools: { web: { numbers: ['+49309000088'] } },
  }]);
  env.browser = await launchBrowser();
});

test.after(async () => {
  if (env.browser) await env.browser.close();
  if (env.callswap) await env.callswap.stop();
  if (env.site) await env.site.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('npm pack makes a tarball with the module, its types, the dist files, the README and the licence', () => {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: packageDir, encoding: 'utf8',
    env: { ...process.env, CALLSWAP_DIST_DIR: dist } });
  const [packed] = JSON.parse(out.slice(out.indexOf('[')));
  env.tarball = path.join(work, packed.filename);
  assert.equal(packed.filename, `callswap-${packageJson.version}.tgz`);
  assert.deepEqual(packed.files.map((f) => f.path).sort(),
    ['LICENSE', 'README.md', 'dist/callswap-decide.wasm', 'dist/callswap.js', 'dist/callswap.wasm', 'index.d.ts', 'index.js', 'package.json']);
  for (const file of ['callswap.wasm', 'callswap-decide.wasm']) {
    assert.equal(fs.readFileSync(path.join(packageDir, 'dist', file)).compare(fs.readFileSync(path.join(dist, file))), 0,
      `the packed ${file} is the one this checkout built`);
  }
});

test('the types declare exactly what the module exports', async () => {
  const module = await import(path.join(packageDir, 'index.js'));
  const declared = [...fs.readFileSync(path.join(packageDir, 'index.d.ts'), 'utf8')
    .matchAll(/^export declare (?:const|function) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(Object.keys(module).filter((k) => k !== 'default').sort(), declared.sort());
  assert.deepEqual(Object.keys(module.default).sort(), declared.sort());
  assert.equal(module.version, packageJson.version);
  assert.equal(module.state().mode, 'off', 'before start (and outside a browser) callswap is off');
  await assert.rejects(module.start({ site: SITE }), /runs in a browser/);
});

test('installed offline into a scratch project and bundled with esbuild, it swaps numbers in Chromium', async () => {
  fs.mkdirSync(path.join(app, 'public', 'callswap'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, version: '1.0.0' }));
  execFileSync('npm', ['install', env.tarball, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe' });
  fs.writeFileSync(path.join(app, 'main.js'), `
    import { start, swap, revert, state, consent, version } from 'callswap';
    window.app = { swap, revert, state, consent, version };
    window.app.ready = start({ site: window.APP.site, server: window.APP.server, assets: '/callswap/' });
  `);
  const built = await esbuild.build({ entryPoints: [path.join(app, 'main.js')], absWorkingDir: app, bundle: true,
    format: 'iife', platform: 'browser', target: 'es2020', minify: true, outfile: path.join(app, 'public', 'app.js'),
    logLevel: 'silent' });
  assert.deepEqual(built.errors, []);
  for (const file of ['callswap.wasm', 'callswap-decide.wasm']) {
    fs.copyFileSync(path.join(app, 'node_modules', 'callswap', 'dist', file), path.join(app, 'public', 'callswap', file));
  }
  fs.writeFileSync(path.join(app, 'public', 'index.html'), `<!doctype html><html><head><meta charset="utf-8">
    <script>window.APP = { site: '${SITE}', server: '${env.callswap.url}' };</script>
    <script src="/app.js"></script></head>
    <body><p class="call">Call us: 030 1234567</p><div id="view"></div></body></html>`);

  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const requests = recordRequests(page);
  try {
    await page.goto(`${env.site.origin}/`);
    await page.waitForFunction(() => window.app?.ready);
    const state = await page.evaluate(() => window.app.ready);
    assert.equal(state.mode, 'static', JSON.stringify(state));
    assert.equal(await page.evaluate(() => window.app.version), packageJson.version);
    assert.equal(await page.textContent('.call'), 'Call us: 030 1111115', 'the static number, before consent');
    assert.ok(requests.some((r) => r.url === `${env.site.origin}/callswap/callswap.wasm`), 'the wasm comes from the app\'s assets folder');
    assert.ok(!requests.some((r) => r.url.startsWith(env.callswap.url) && r.method !== 'GET'), 'nothing sent to the server before consent');

    // A single-page app's new view: swapped, by the SDK's observer or by swap().
    await page.evaluate(() => { document.getElementById('view').innerHTML = '<p class="later">Or 030 1234567</p>'; });
    await until(page, () => document.querySelector('.later').textContent === 'Or 030 1111115');

    await page.evaluate(() => window.app.consent.grant());
    await until(page, () => window.app.state().mode === 'dynamic');
    assert.equal(await page.textContent('.call'), 'Call us: 030 9000088', 'the pool number after consent');

    await page.evaluate(() => window.app.revert());
    assert.equal(await page.textContent('.call'), 'Call us: 030 1234567', 'revert restores the page');
    assert.ok(await page.evaluate(() => window.app.swap() > 0), 'swap() swaps again');
    assert.equal(await page.textContent('.call'), 'Call us: 030 9000088');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
