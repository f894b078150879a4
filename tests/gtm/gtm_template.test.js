// The Google Tag Manager template (integrations/gtm/template.tpl) outside Tag Manager: its
// sections parse, its sandboxed code runs against implementations of the sandbox APIs it
// requires, which enforce the permissions the template declares the way Tag Manager does,
// its own ___TESTS___ scenarios pass, the permissions are exactly the ones the code needs,
// and the page it produces loads callswap in Chromium against the real callswap-server.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { useSiteAndServer, until, root } = require('../browser/harness.js');

const templateText = fs.readFileSync(path.join(root, 'integrations', 'gtm', 'template.tpl'), 'utf8');

/** The ___NAME___ sections of a .tpl file. */
function sections(text) {
  const out = {};
  const parts = text.split(/^___([A-Z_]+)___\s*$/m);
  for (let i = 1; i < parts.length; i += 2) out[parts[i]] = parts[i + 1].trim();
  return out;
}
const tpl = sections(templateText);
const info = JSON.parse(tpl.INFO);
const parameters = JSON.parse(tpl.TEMPLATE_PARAMETERS);
const permissions = JSON.parse(tpl.WEB_PERMISSIONS);
const code = tpl.SANDBOXED_JS_FOR_WEB_TEMPLATE;

/** The declared permission of this id, or undefined. */
const permission = (id) => permissions.find((p) => p.instance.key.publicId === id);
const injectPatterns = () => permission('inject_script').instance.param.find((p) => p.key === 'urls').value.listItem.map((i) => i.string);

/**
 * Tag Manager's URL match pattern: https only; a host of '*' is any host and '*.example.com'
 * that domain and its subdomains; in the path each '*' is any run of characters. The path is
 * matched together with the query (the stricter of the two readings: a pattern that passes
 * here passes in Tag Manager too).
 */
function matchesUrlPattern(pattern, url) {
  const p = /^https:\/\/([^/]+)(\/.*)$/.exec(pattern);
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (!p || u.protocol !== 'https:') return false;
  const [, host, pathPattern] = p;
  const hostOk = host === '*' || (host.startsWith('*.') ? u.host === host.slice(2) || u.host.endsWith(host.slice(1)) : u.host === host);
  const pathRegex = new RegExp(`^${pathPattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return hostOk && pathRegex.test(u.pathname + u.search);
}

// The sandbox APIs the template may require, each with the permission it needs (none: null).
const API_PERMISSIONS = { injectScript: 'inject_script', logToConsole: 'logging', queryPermission: null, encodeUriComponent: null };

/**
 * Runs the sandboxed code once with `data`, in a context that has nothing but `require` and
 * `data` (the sandbox has no window, document or other globals). Returns what it called.
 */
function runTemplate(data, mocks = {}) {
  const calls = [];
  const record = (name, fn) => (...args) => {
    calls.push({ name, args });
    return fn(...args);
  };
  const check = (id, url) => {
    const declared = permission(id);
    if (!declared) return false;
    if (id === 'inject_script') return injectPatterns().some((pattern) => matchesUrlPattern(pattern, url));
    return true;
  };
  const implementations = {
    // Tag Manager throws when a call is not covered by the declared permissions.
    injectScript: (url, onSuccess, onFailure, cacheToken) => {
      if (!check('inject_script', url)) throw new Error(`inject_script does not allow ${url}`);
      if (mocks.injectScript) return mocks.injectScript(url, onSuccess, onFailure, cacheToken);
      return undefined;
    },
    logToConsole: () => {
      if (!check('logging')) throw new Error('logging is not allowed');
    },
    queryPermission: (id, ...args) => check(id, ...args),
    encodeUriComponent: (s) => encodeURIComponent(s),
  };
  const required = new Set();
  const sandboxRequire = (name) => {
    if (!(name in API_PERMISSIONS)) throw new Error(`the template requires ${name}, which this harness does not implement`);
    required.add(name);
    return record(name, implementations[name]);
  };
  const sandboxData = {
    ...data,
    gtmOnSuccess: record('gtmOnSuccess', () => {}),
    gtmOnFailure: record('gtmOnFailure', () => {}),
  };
  const context = vm.createContext({ require: sandboxRequire, data: sandboxData });
  vm.runInContext(code, context, { filename: 'template.tpl' });
  return { calls, required, called: (name) => calls.filter((c) => c.name === name) };
}

test('the template has the sections and fields of a gallery template', () => {
  for (const name of ['INFO', 'TEMPLATE_PARAMETERS', 'SANDBOXED_JS_FOR_WEB_TEMPLATE', 'WEB_PERMISSIONS', 'TESTS']) {
    assert.ok(tpl[name], `___${name}___`);
  }
  assert.equal(info.type, 'TAG');
  assert.deepEqual(info.containerContexts, ['WEB']);
  assert.deepEqual(parameters.map((p) => [p.name, p.type]), [['serverUrl', 'TEXT'], ['siteId', 'TEXT']]);
  const metadata = fs.readFileSync(path.join(root, 'integrations', 'gtm', 'metadata.yaml'), 'utf8');
  assert.match(metadata, /^homepage: /m);
  assert.match(metadata, /^versions:\n(.*\n)*\s+- sha: [0-9a-f]{40}\n\s+changeNotes: /m);
});

test('it injects callswap.js?site=<id> from the server and reports success', () => {
  const run = runTemplate({ serverUrl: 'https://track.example.com/', siteId: 'acme' }, {
    injectScript: (_url, onSuccess) => onSuccess(),
  });
  const [inject] = run.called('injectScript');
  assert.equal(inject.args[0], 'https://track.example.com/callswap.js?site=acme');
  assert.equal(inject.args[3], 'callswap', 'a cache token, so a second firing does not load it twice');
  assert.equal(run.called('gtmOnSuccess').length, 1);
  assert.equal(run.called('gtmOnFailure').length, 0);
});

test('the permissions are exactly what the code uses', () => {
  const run = runTemplate({ serverUrl: 'https://track.example.com', siteId: 'acme' });
  const needed = new Set([...run.required].map((api) => API_PERMISSIONS[api]).filter(Boolean));
  const declared = new Set(permissions.map((p) => p.instance.key.publicId));
  assert.deepEqual([...declared].sort(), [...needed].sort());
  // Only https URLs may be injected: the pattern refuses http and other schemes.
  assert.ok(!injectPatterns().some((pattern) => matchesUrlPattern(pattern, 'http://track.example.com/callswap.js?site=a')));
  assert.ok(injectPatterns().every((pattern) => pattern.startsWith('https://')));
  // An unauthorised URL is refused by the harness as by Tag Manager (the check is real).
  assert.ok(!matchesUrlPattern('https://track.example.com/*', 'https://evil.example/callswap.js'));
  assert.ok(matchesUrlPattern('https://*.example.com/*', 'https://track.example.com/callswap.js?site=a'));
});

test('the field validators and the code agree on what is valid', () => {
  const validator = (name) => new RegExp(parameters.find((p) => p.name === name).valueValidators.find((v) => v.type === 'REGEX').args[0]);
  const servers = ['https://track.example.com', 'https://track.example.com/', 'https://example.com:8443/callswap',
    'http://track.example.com', 'https://track.example.com/?a=1', 'https://track.example.com/#x', 'javascript:alert(1)', 'https://'];
  const sites = ['acme', 'shop_1', 'a-b', 'acme&site=other', 'a b', '', 'x'.repeat(65)];
  for (const serverUrl of servers) {
    for (const siteId of sites) {
      const fieldsValid = validator('serverUrl').test(serverUrl) && validator('siteId').test(siteId);
      const run = runTemplate({ serverUrl, siteId });
      assert.equal(run.called('injectScript').length === 1, fieldsValid, `${serverUrl} / ${siteId}`);
      assert.equal(run.called('gtmOnFailure').length === 1, !fieldsValid, `${serverUrl} / ${siteId}`);
    }
  }
});

/** The ___TESTS___ scenarios, run as the template editor runs them. */
function scenarios() {
  const out = [];
  let current = null;
  for (const line of tpl.TESTS.split('\n')) {
    const name = /^- name: (.*)$/.exec(line);
    if (name) {
      current = { name: name[1], code: [] };
      out.push(current);
    } else if (current && /^ {4}/.test(line)) {
      current.code.push(line.slice(4));
    }
  }
  return out.map((s) => ({ name: s.name, code: s.code.join('\n') }));
}

test('its own ___TESTS___ scenarios pass', () => {
  const all = scenarios();
  assert.ok(all.length >= 4, 'the template has its scenarios');
  for (const scenario of all) {
    const mocks = {};
    let run = null;
    const api = {
      mock: (name, fn) => { mocks[name] = fn; },
      runCode: (data) => { run = runTemplate(data, mocks); },
      assertApi: (name) => ({
        wasCalled: () => assert.ok(run.called(name).length > 0, `${scenario.name}: ${name} was called`),
        wasNotCalled: () => assert.equal(run.called(name).length, 0, `${scenario.name}: ${name} was not called`),
      }),
      assertThat: (actual) => ({ isEqualTo: (expected) => assert.deepStrictEqual(actual, expected, scenario.name) }),
    };
    vm.runInNewContext(scenario.code, api, { filename: scenario.name });
    assert.ok(run, `${scenario.name} ran the code`);
  }
});

// In Chromium: the template's code with browser implementations of injectScript (a script
// element, as Tag Manager's own) on a page of the test site; the server's https URL is
// routed to the real callswap-server on loopback.
const SITE = 'gtmsite';
const env = useSiteAndServer(test, (siteOrigin) => [{
  config: { site: SITE, country: 'DE', targets: ['+49301234567'],
    sources: [{ id: 'direct', static: '+49301111115', default: true }] },
  allowed_origins: [siteOrigin],
}]);
test('the page the template produces loads callswap with ?site= in Chromium', async () => {
  const sandboxRuntime = `
    window.gtmResult = [];
    const cacheTokens = new Set();
    const apis = {
      injectScript(url, onSuccess, onFailure, cacheToken) {
        if (cacheToken && cacheTokens.has(cacheToken)) return onSuccess();
        if (cacheToken) cacheTokens.add(cacheToken);
        const script = document.createElement('script');
        script.src = url;
        script.async = true;
        script.onload = onSuccess;
        script.onerror = onFailure;
        document.head.appendChild(script);
      },
      encodeUriComponent: encodeURIComponent,
      queryPermission: () => true,
      logToConsole: (...args) => console.log(...args),
    };
    function runTag(data) {
      const require = (name) => apis[name];
      data.gtmOnSuccess = () => window.gtmResult.push('success');
      data.gtmOnFailure = () => window.gtmResult.push('failure');
      (new Function('require', 'data', ${JSON.stringify(code)}))(require, data);
    }`;
  env.site.pages['/gtm.html'] = `<!doctype html><html><head><script>${sandboxRuntime}
    runTag({ serverUrl: 'https://callswap.test', siteId: '${SITE}' });
    runTag({ serverUrl: 'https://callswap.test', siteId: '${SITE}' });</script></head>
    <body><p class="call">Call us: 030 1234567</p></body></html>`;
  const context = await env.browser.newContext();
  await context.route('https://callswap.test/**', async (route) => {
    const url = new URL(route.request().url());
    const response = await route.fetch({ url: `${env.callswap.url}${url.pathname}${url.search}` });
    await route.fulfill({ response });
  });
  const page = await context.newPage();
  try {
    await page.goto(env.site.url('/gtm.html'));
    await until(page, () => window.gtmResult.length === 2);
    assert.deepEqual(await page.evaluate(() => window.gtmResult), ['success', 'success']);
    const scripts = await page.$$eval('script[src]', (list) => list.map((s) => s.getAttribute('src')));
    assert.deepEqual(scripts, [`https://callswap.test/callswap.js?site=${SITE}`], 'one script, with the site id in its URL');
    await page.waitForFunction(() => window.callswap?.ready);
    const state = await page.evaluate(() => window.callswap.ready);
    assert.equal(state.mode, 'static');
    assert.equal(await page.textContent('.call'), 'Call us: 030 1111115');
  } finally {
    await context.close();
  }
});
