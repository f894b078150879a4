// `make release` (scripts/release): the versioned files, their SRI hashes and the snippet,
// checked against the files themselves, and the snippet loaded in Chromium from the real
// callswap-server; a snippet whose integrity does not match is refused by the browser.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { useSiteAndServer, recordRequests, until, root, dist } = require('../browser/harness.js');

const version = /^project\(callswap VERSION ([0-9.]+)/m.exec(fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8'))[1];
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-release-'));
const sri = (file) => `sha384-${crypto.createHash('sha384').update(fs.readFileSync(file)).digest('base64')}`;
for (const file of ['callswap.js', 'callswap.wasm', 'callswap-decide.wasm']) fs.copyFileSync(path.join(dist, file), path.join(out, file));
// The test site, and callswap-server serving the release folder.
const env = useSiteAndServer(test, (siteOrigin) => [{
  config: { site: 'rel', country: 'DE', targets: ['+49301234567'], sources: [{ id: 'direct', static: '+49301111115', default: true }] },
  allowed_origins: [siteOrigin],
}], { static_dir: out });

// make release for this server, once (the server's URL is known once the hooks have run).
function release() {
  env.output ??= execFileSync(path.join(root, 'scripts', 'release'), ['--dist', out, '--server', env.callswap.url, '--site', 'rel'],
    { encoding: 'utf8' });
}

test.after(() => fs.rmSync(out, { recursive: true, force: true }));

test('the release files carry the version, and their hashes and the snippet match them', () => {
  release();
  const js = path.join(out, `callswap-${version}.js`);
  const wasm = path.join(out, `callswap-${version}.wasm`);
  const decide = path.join(out, `callswap-decide-${version}.wasm`);
  assert.ok(fs.existsSync(js) && fs.existsSync(wasm) && fs.existsSync(decide));
  assert.equal(fs.readFileSync(wasm).compare(fs.readFileSync(path.join(dist, 'callswap.wasm'))), 0, 'the module is the built one');
  assert.equal(fs.readFileSync(decide).compare(fs.readFileSync(path.join(dist, 'callswap-decide.wasm'))), 0, 'the second module too');
  const script = fs.readFileSync(js, 'utf8');
  assert.ok(!script.includes('"callswap.wasm"') && script.includes(`"callswap-${version}.wasm"`), 'the script loads its own version\'s module');
  assert.ok(!script.includes('"callswap-decide.wasm"') && script.includes(`"callswap-decide-${version}.wasm"`), 'and its own second module');
  assert.equal(script.replaceAll(`"callswap-${version}.wasm"`, '"callswap.wasm"').replaceAll(`"callswap-decide-${version}.wasm"`, '"callswap-decide.wasm"'),
    fs.readFileSync(path.join(dist, 'callswap.js'), 'utf8'), 'and is otherwise the built script');
  assert.equal(fs.readFileSync(path.join(out, `callswap-${version}.sri`), 'utf8'),
    `${sri(js)} callswap-${version}.js\n${sri(wasm)} callswap-${version}.wasm\n${sri(decide)} callswap-decide-${version}.wasm\n`);
  const snippet = fs.readFileSync(path.join(out, `callswap-${version}.snippet.html`), 'utf8');
  assert.equal(snippet, `<script src="${env.callswap.url}/callswap-${version}.js" integrity="${sri(js)}" crossorigin="anonymous" ` +
    'data-site="rel" referrerpolicy="no-referrer" async></script>\n');
  assert.match(env.output, new RegExp(`release ${version.replaceAll('.', '\\.')} in `));
});

test('the script refuses a site id or server that would break the tag', () => {
  for (const args of [['--site', 'a"b'], ['--server', 'https://x.example/"><script>']]) {
    assert.throws(() => execFileSync(path.join(root, 'scripts', 'release'), ['--dist', out, ...args], { stdio: 'pipe' }),
      (error) => error.status === 2, args.join(' '));
  }
});

async function load(snippet) {
  release();
  env.site.pages['/release.html'] = `<!doctype html><html><head>${snippet}</head>
    <body><p class="call">Call us: 030 1234567</p></body></html>`;
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const console = [];
  page.on('console', (message) => console.push(message.text()));
  const requests = recordRequests(page);
  await page.goto(env.site.url('/release.html'));
  return { context, page, console, requests };
}

test('the snippet loads the versioned pair from the server in Chromium', async () => {
  const { context, page, requests } = await load(fs.readFileSync(path.join(out, `callswap-${version}.snippet.html`), 'utf8'));
  try {
    await page.waitForFunction(() => window.callswap?.ready);
    assert.equal((await page.evaluate(() => window.callswap.ready)).mode, 'static');
    assert.equal(await page.textContent('.call'), 'Call us: 030 1111115');
    assert.ok(requests.some((r) => r.url === `${env.callswap.url}/callswap-${version}.wasm`), 'the versioned module is loaded');
    assert.ok(!requests.some((r) => r.url.endsWith('/callswap.wasm')));
  } finally {
    await context.close();
  }
});

test('a snippet whose integrity does not match the file is refused and the page keeps its numbers', async () => {
  const snippet = fs.readFileSync(path.join(out, `callswap-${version}.snippet.html`), 'utf8')
    .replace(/integrity="sha384-[^"]+"/, `integrity="sha384-${crypto.createHash('sha384').update('another file').digest('base64')}"`);
  const { context, page, console } = await load(snippet);
  try {
    await until(page, () => document.readyState === 'complete');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => typeof window.callswap), 'undefined', 'the script did not run');
    assert.equal(await page.textContent('.call'), 'Call us: 030 1234567');
    assert.ok(console.some((line) => /integrity/i.test(line)), console.join('\n'));
  } finally {
    await context.close();
  }
});
