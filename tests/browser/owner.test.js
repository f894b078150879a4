// A site owner's mistakes: a wrong or missing site id, an origin the server does not allow,
// a config that cannot be loaded or is not JSON, a wasm that is not the one the SDK was built
// with. Each logs one console line naming the cause and the fix, shows in callswap.state(),
// and leaves the page's own numbers in place. Also the script-tag options the owner may use.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { acmeConfig, useSiteAndServer, openPage, closedPort, until, root } = require('./harness.js');

const siteConfig = acmeConfig();
// A site whose allowed_origins forgot the page's origin.
const closedConfig = { ...siteConfig, site: 'closed', pools: ['ads'],
  sources: [{ id: 'direct', static: '+49309876544', pool: 'ads', default: true }] };

const env = useSiteAndServer(test, (origin) => [
  { config: siteConfig, allowed_origins: [origin], pools: { ads: { numbers: ['+49309000001', '+49309000002'] } } },
  { config: closedConfig, allowed_origins: ['https://www.example.com'], pools: { ads: { numbers: ['+49309000003'] } } },
]);

const BODY = '<p id="phone">030 1234567</p>';
const doc = (head) => `<!doctype html><html><head><meta charset="utf-8">${head}</head><body>${BODY}</body></html>`;
function visit(html, query = '') {
  const p = `/o-${Math.random().toString(36).slice(2)}.html`;
  env.site.pages[p] = html;
  return openPage(env.browser, env.site.url(p + query));
}
const phone = (page) => page.evaluate(() => document.getElementById('phone').textContent);

// One warning from callswap, the page untouched, no exception, the state naming the cause.
async function assertProblem(visited, code, pattern) {
  const { context, page, errors, warnings, state } = visited;
  assert.equal(state.mode, 'off');
  assert.equal(state.error, code);
  assert.match(state.message, pattern);
  assert.deepEqual(warnings.filter((w) => w.startsWith('callswap:')), [state.message]);
  assert.match(warnings[0], pattern);
  assert.equal(await phone(page), '030 1234567', 'the page keeps its own number');
  assert.deepEqual(errors, []);
  await context.close();
}

test('a wrong data-site: the server does not know the site', async () => {
  await assertProblem(await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme-typo" async></script>')),
    'unknown_site', /does not know the site "acme-typo" \(HTTP 404\): check data-site/);
});

test('no site id at all', async () => {
  await assertProblem(await visit(doc('<script src="{{CALLSWAP}}/callswap.js" async></script>')),
    'no_site', /add data-site="<site id>"/);
});

test('a data-config URL that answers 404', async () => {
  await assertProblem(await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-config="/missing.json" async></script>')),
    'config_http', /\/missing\.json answered HTTP 404/);
});

test('a data-config URL that is not JSON', async () => {
  env.site.pages['/not-json.json'] = '<html>a login page</html>';
  await assertProblem(await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-config="/not-json.json" async></script>')),
    'config_not_json', /not-json\.json is not JSON/);
});

test('a data-server where no server runs', async () => {
  const down = `http://127.0.0.1:${await closedPort()}`;
  await assertProblem(await visit(doc(`<script src="/dist/callswap.js" data-site="acme" data-server="${down}" async></script>`)),
    'config_unreachable', /could not be fetched/);
});

test('an invalid config names every field and reason', async () => {
  await assertProblem(await visit(doc(`<script>window.callswapConfig = { site: 'acme', country: 'DE', targets: ['030 1234567'], sources: [] };</script>
     <script src="{{CALLSWAP}}/callswap.js" async></script>`)),
  'invalid_config', /targets\[0\]: "030 1234567" is not a valid E\.164 number.*Fix these fields/);
});

test('wasm blocked by the page\'s Content-Security-Policy', async () => {
  const p = '/csp.html';
  env.site.pages[p] = doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>');
  env.site.headers[p] = { 'Content-Security-Policy': `script-src 'self' 'unsafe-inline' ${env.callswap.url}; connect-src 'self' ${env.callswap.url}` };
  await assertProblem(await openPage(env.browser, env.site.url(p)), 'wasm_blocked_by_csp', /add 'wasm-unsafe-eval' to its script-src/);
});

test('an origin missing from the server\'s allowed_origins: warned once, the static number stays', async () => {
  const { context, page, warnings, errors, requests } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="closed" async></script>'));
  assert.equal(await phone(page), '030 9876544');
  assert.deepEqual(warnings, [], 'nothing to say before a request is refused');
  await page.evaluate(() => window.callswap.consent.grant());
  await until(page, () => window.callswap.state().error === 'origin_not_allowed');
  const state = await page.evaluate(() => window.callswap.state());
  assert.equal(state.mode, 'static');
  assert.equal(state.number, '+49309876544');
  assert.match(state.message, new RegExp(`refused requests from ${env.site.origin}: add "${env.site.origin}" to allowed_origins of site "closed"`));
  assert.deepEqual(warnings.filter((w) => w.startsWith('callswap:')), [state.message]);
  assert.equal(await phone(page), '030 9876544');
  assert.equal(requests.filter((r) => r.method === 'POST').length, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a wasm that is not the one callswap.js was built with is refused (SRI), with one console error', async () => {
  // The site hosts the SDK itself, and its callswap.wasm was replaced.
  const js = fs.readFileSync(path.join(env.dist, 'callswap.js'), 'utf8');
  const wasm = fs.readFileSync(path.join(env.dist, 'callswap.wasm'));
  wasm[wasm.length - 1] ^= 1;
  env.site.files['/tampered/callswap.js'] = { type: 'text/javascript', body: js };
  env.site.files['/tampered/callswap.wasm'] = { type: 'application/wasm', body: wasm };
  const { context, page, errors, warnings, consoleErrors, state } = await visit(doc(
    `<script src="/tampered/callswap.js" data-site="acme" data-server="{{CALLSWAP}}" async></script>`));
  assert.equal(state.mode, 'off');
  assert.equal(state.error, 'wasm_tampered');
  assert.match(state.message, /callswap\.wasm is not the file this callswap\.js was built with \(expected sha384-/);
  assert.deepEqual(consoleErrors.filter((m) => m.startsWith('callswap:')), [state.message]);
  assert.deepEqual(warnings.filter((m) => m.startsWith('callswap:')), []);
  assert.equal(await phone(page), '030 1234567');
  assert.deepEqual(errors, []);
  await context.close();
  // The same files untouched load fine: the hash is the real one.
  env.site.files['/intact/callswap.js'] = { type: 'text/javascript', body: js };
  env.site.files['/intact/callswap.wasm'] = { type: 'application/wasm', body: fs.readFileSync(path.join(env.dist, 'callswap.wasm')) };
  env.site.files['/intact/callswap-decide.wasm'] = { type: 'application/wasm', body: fs.readFileSync(path.join(env.dist, 'callswap-decide.wasm')) };
  const intact = await visit(doc(`<script src="/intact/callswap.js" data-site="acme" data-server="{{CALLSWAP}}" async></script>`));
  assert.equal(intact.state.mode, 'static');
  assert.equal(await phone(intact.page), '030 9876543');
  await intact.context.close();
});

test('a second module that is not the one callswap.js was built with is refused; the static numbers stay', async () => {
  const js = fs.readFileSync(path.join(env.dist, 'callswap.js'), 'utf8');
  const decide = fs.readFileSync(path.join(env.dist, 'callswap-decide.wasm'));
  decide[decide.length - 1] ^= 1;
  env.site.files['/decide-tampered/callswap.js'] = { type: 'text/javascript', body: js };
  env.site.files['/decide-tampered/callswap.wasm'] = { type: 'application/wasm', body: fs.readFileSync(path.join(env.dist, 'callswap.wasm')) };
  env.site.files['/decide-tampered/callswap-decide.wasm'] = { type: 'application/wasm', body: decide };
  const { context, page, errors, consoleErrors } = await visit(doc(
    `<script src="/decide-tampered/callswap.js" data-site="acme" data-server="{{CALLSWAP}}" async></script>`));
  await until(page, () => window.callswap.state().error === 'wasm_tampered');
  const state = await page.evaluate(() => window.callswap.state());
  assert.equal(state.mode, 'static', 'the first swap stands');
  assert.match(state.message, /callswap-decide\.wasm is not the file this callswap\.js was built with/);
  assert.deepEqual(consoleErrors.filter((m) => m.startsWith('callswap:')), [state.message]);
  assert.equal(await phone(page), '030 9876543');
  await page.evaluate(() => window.callswap.consent.grant());
  await page.waitForTimeout(500);
  assert.equal((await page.evaluate(() => window.callswap.state())).mode, 'static', 'no dynamic number without the module');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the site id may come from the script URL instead of data-site', async () => {
  const { context, page, state, warnings } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js?site=acme" async></script>'), '?gclid=x');
  assert.equal(state.mode, 'static');
  assert.equal(state.source, 'google-ads');
  assert.equal(await phone(page), '030 1111111');
  assert.deepEqual(warnings, []);
  await context.close();
});

test('callswap.version is the project version of the build', async () => {
  const cmake = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
  const version = cmake.match(/project\(callswap VERSION ([0-9.]+)/)[1];
  const { context, page } = await visit(doc('<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>'));
  assert.equal(await page.evaluate(() => window.callswap.version), version);
  await context.close();
});
