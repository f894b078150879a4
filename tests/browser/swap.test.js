// The swap in a real page: page in → page out, each case also reverted with
// revert() and compared by outerHTML. Before consent: the visit's static number.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { useSiteAndServer, openPage, until } = require('./harness.js');

const siteConfig = {
  site: 'acme',
  country: 'DE',
  targets: ['+49301234567', '+498912345678'],
  sources: [
    { id: 'google-ads', static: '+49301111111', match: { click_ids: ['gclid'] } },
    { id: 'direct', static: '+49309876543', default: true },
  ],
};

const flicker = { anti_flicker: { selector: '.phone', timeout_ms: 3000 } };
// A second site (a number belongs to one site only) whose config the server serves compact.
const flickerConfig = { site: 'flicker', country: 'DE', targets: ['+49301234567'],
  sources: [{ id: 'direct', static: '+49309876549', default: true }], swap: flicker };
const env = useSiteAndServer(test, (origin) => [{ config: siteConfig, allowed_origins: [origin] },
  { config: flickerConfig, allowed_origins: [origin] }]);

const SCRIPT = '<script src="{{CALLSWAP}}/callswap.js" data-site="acme" async></script>';

function open(body, query = '') {
  const path = `/case-${Math.random().toString(36).slice(2)}.html`;
  env.site.pages[path] = `<!doctype html><html><head><meta charset="utf-8">${SCRIPT}</head><body>${body}</body></html>`;
  return openPage(env.browser, env.site.url(path + query));
}

const bodyHtml = (page) => page.evaluate(() => document.body.innerHTML);

const CASES = [
  ['plain national', '<p>Rufen Sie an: 030 1234567</p>', '<p>Rufen Sie an: 030 9876543</p>'],
  ['grouped with brackets', '<p>+49 (0)30 123 45 67</p>', '<p>+49 (0)30 987 65 43</p>'],
  ['international with 00', '<p>Aus dem Ausland: 0049 30 1234567</p>', '<p>Aus dem Ausland: 0049 30 9876543</p>'],
  ['slash', '<p>030/1234567</p>', '<p>030/9876543</p>'],
  ['second target (Munich)', '<p>089 12345678</p>', '<p>030 9876543</p>'],
  ['tel: link and its text', '<a href="tel:+49301234567">030 - 123 45 67</a>',
    '<a href="tel:+49309876543">030 - 987 65 43</a>'],
  ['tel: link with a national number', '<a href="tel:0301234567">Anrufen</a>', '<a href="tel:+49309876543">Anrufen</a>'],
  ['split over inline elements', '<a href="tel:+49301234567"><span>030</span> 1234567</a>',
    '<a href="tel:+49309876543"><span>030</span> 9876543</a>'],
  ['split in a heading', '<h2>Hotline <b>030</b> <i>123 45 67</i></h2>', '<h2>Hotline <b>030</b> <i>987 65 43</i></h2>'],
  ['blocks do not join', '<p>030</p><p>1234567</p>', '<p>030</p><p>1234567</p>'],
  ['line breaks do not join', '<p>030<br>1234567</p>', '<p>030<br>1234567</p>'],
  ['noswap attribute', '<p data-callswap-noswap="">030 1234567 <b>030 1234567</b></p>',
    '<p data-callswap-noswap="">030 1234567 <b>030 1234567</b></p>'],
  ['form fields and editable text', '<textarea>030 1234567</textarea><input value="030 1234567"><div contenteditable="true">030 1234567</div>',
    '<textarea>030 1234567</textarea><input value="030 1234567"><div contenteditable="true">030 1234567</div>'],
  ['script and style', '<script>var phone = "030 1234567";</script><style>/* 030 1234567 */</style>',
    '<script>var phone = "030 1234567";</script><style>/* 030 1234567 */</style>'],
  ['other numbers stay', '<p>Fax 030 1234568, IBAN DE89 3704 0044 0532 0130 00</p>',
    '<p>Fax 030 1234568, IBAN DE89 3704 0044 0532 0130 00</p>'],
  ['hostile text stays text', '<p>&lt;img src=x onerror=alert(1)&gt; 030 1234567</p>',
    '<p>&lt;img src=x onerror=alert(1)&gt; 030 9876543</p>'],
];

for (const [name, input, expected] of CASES) {
  test(`swap: ${name}`, async () => {
    const { page, errors } = await open(input);
    assert.equal(await bodyHtml(page), expected);
    const original = await page.evaluate(() => {
      window.callswap.revert();
      return document.body.innerHTML;
    });
    assert.equal(original, input.replace(/<input value="([^"]*)">/, '<input value="$1">'), 'revert() restores the page');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
}

test('the source decides the static number: a Google Ads click shows its number', async () => {
  const { page } = await open('<p>030 1234567</p>', '?gclid=abc');
  assert.equal(await bodyHtml(page), '<p>030 1111111</p>');
  assert.deepEqual(await page.evaluate(() => window.callswap.state()),
    { mode: 'static', source: 'google-ads', number: '+49301111111' });
  await page.context().close();
});

test('a site without pools downloads only the first-swap files: no second module, no consent platform read', async () => {
  // A TCF stub that counts the calls, there before the SDK: the default config lists tcf,
  // yet without a pool nothing may ask it.
  const path = '/no-pools.html';
  env.site.pages[path] = `<!doctype html><html><head><meta charset="utf-8">${SCRIPT}</head><body><p>030 1234567</p></body></html>`;
  const { page, requests } = await openPage(env.browser, env.site.url(path), {
    init: 'window.tcfCalls = 0; window.__tcfapi = () => { window.tcfCalls++; };' });
  await page.evaluate(() => window.callswap.consent.grant());
  await page.waitForTimeout(500);
  assert.equal(await bodyHtml(page), '<p>030 9876543</p>');
  const ours = requests.map((r) => new URL(r.url).pathname).filter((p) => p.startsWith('/callswap') || p.startsWith('/v1/')).sort();
  assert.deepEqual(ours, ['/callswap.js', '/callswap.wasm', '/v1/sites/acme/config/compact']);
  assert.equal(await page.evaluate(() => window.tcfCalls), 0);
  assert.equal((await page.evaluate(() => window.callswap.state())).mode, 'static');
  await page.context().close();
});

test('content added later is swapped without a call from the site, and revert() restores it', async () => {
  const { page } = await open('<main id="app"><p>030 1234567</p></main>');
  await page.evaluate(() => {
    const card = document.createElement('section');
    card.innerHTML = '<h3>Kontakt</h3><a href="tel:030-1234567">030 123 45 67</a>';
    document.getElementById('app').append(card);
  });
  await until(page, () => document.querySelector('section a').textContent === '030 987 65 43');
  assert.equal(await page.evaluate(() => document.querySelector('section a').getAttribute('href')), 'tel:+49309876543');
  // The page rewrites a swapped node itself: its new text is swapped again.
  await page.evaluate(() => {
    document.querySelector('#app p').firstChild.nodeValue = 'Neu: 030 1234567';
  });
  await until(page, () => document.querySelector('#app p').textContent === 'Neu: 030 9876543');
  // The SDK's own edits never retrigger it: count swap events for a while.
  const events = await page.evaluate(async () => {
    let count = 0;
    document.addEventListener('callswap:swap', () => count++);
    const p = document.createElement('p');
    p.textContent = '+49 30 1234567';
    document.getElementById('app').append(p);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { count, text: p.textContent };
  });
  assert.deepEqual(events, { count: 1, text: '+49 30 9876543' });
  const reverted = await page.evaluate(() => {
    window.callswap.revert();
    document.querySelector('section').remove();
    document.querySelector('#app p:last-child').remove();
    return document.getElementById('app').outerHTML;
  });
  // The site's own last write is what revert() leaves, with our swap of it undone.
  assert.equal(reverted, '<main id="app"><p>Neu: 030 1234567</p></main>');
  await page.context().close();
});

test('a page that writes the shown number on every swap event does not loop', async () => {
  // Regression: the demo toolbar did this, and an event for every observed mutation fed the
  // observer forever and froze the page.
  const { page } = await open(`<p>030 1234567</p><p id="status"></p><script>
    window.events = 0;
    document.addEventListener('callswap:swap', () => {
      window.events++;
      document.getElementById('status').textContent = 'Nummer: ' + window.callswap.state().number;
    });
  </script>`);
  await page.evaluate(() => document.body.append(Object.assign(document.createElement('p'), { textContent: '+49 30 1234567' })));
  await page.waitForTimeout(300);
  const events = await page.evaluate(() => window.events);
  assert.ok(events >= 1 && events <= 3, `events: ${events}`);
  assert.equal(await page.textContent('#status'), 'Nummer: +49309876543');
  await page.context().close();
});

test('a listener that writes a site number on every swap event cannot freeze the page', { timeout: 30000 }, async () => {
  const { page } = await open(`<p id="status"></p><script>
    window.events = 0;
    document.addEventListener('callswap:swap', () => {
      window.events++;
      document.getElementById('status').textContent = 'Rufen Sie an: 030 1234567';
    });
  </script>`);
  await page.evaluate(() => document.body.append(Object.assign(document.createElement('p'), { textContent: '030 1234567' })));
  await page.waitForTimeout(300);
  const events = await page.evaluate(() => window.events); // the page answers: it is not frozen
  assert.ok(events <= 25, `events: ${events}`);
  await page.context().close();
});

test('shadow roots: open now and opened later', async () => {
  const { page } = await open(`<div id="host"></div><script>
    document.getElementById('host').attachShadow({ mode: 'open' }).innerHTML = '<p>030 1234567</p>';
  </script>`);
  await until(page, () => document.getElementById('host').shadowRoot.textContent === '030 9876543');
  await page.evaluate(() => {
    customElements.define('call-box', class extends HTMLElement {
      connectedCallback() {
        const root = this.attachShadow({ mode: 'open' });
        setTimeout(() => {
          root.innerHTML = '<span>Tel. 030 1234567</span>';
        }, 50);
      }
    });
    document.body.append(document.createElement('call-box'));
  });
  await until(page, () => document.querySelector('call-box').shadowRoot.textContent === 'Tel. 030 9876543');
  await page.context().close();
});

test('anti-flicker from the server\'s compact config hides the configured elements until the first swap', async () => {
  // The style sheets the page adopts, recorded as they are set.
  const path = '/flicker-server.html';
  env.site.pages[path] = `<!doctype html><html><head><script>
      window.adopted = [];
      const setter = Object.getOwnPropertyDescriptor(Document.prototype, 'adoptedStyleSheets').set;
      Object.defineProperty(document, 'adoptedStyleSheets', { get: () => Object.getOwnPropertyDescriptor(Document.prototype, 'adoptedStyleSheets').get.call(document),
        set(sheets) { window.adopted.push(sheets.map((s) => [...s.cssRules].map((r) => r.cssText).join()).join()); setter.call(document, sheets); } });
    </script><script src="{{CALLSWAP}}/callswap.js" data-site="flicker"></script></head>
    <body><p class="phone">030 1234567</p></body></html>`;
  const { page } = await openPage(env.browser, env.site.url(path));
  await until(page, () => document.querySelector('.phone').textContent === '030 9876549');
  assert.deepEqual(await page.evaluate(() => window.adopted), ['.phone { visibility: hidden !important; }', '']);
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.phone')).visibility), 'visible');
  await page.context().close();
});

test('anti-flicker hides the configured elements until the first swap, never longer', async () => {
  const path = '/flicker.html';
  env.site.pages[path] = `<!doctype html><html><head><script>window.callswapConfig = ${JSON.stringify({ ...siteConfig, swap: flicker })};</script>
    <script src="{{CALLSWAP}}/callswap.js" data-site="acme"></script></head>
    <body><p class="phone">030 1234567</p><script>
      window.seen = getComputedStyle(document.querySelector('.phone')).visibility;
    </script></body></html>`;
  const { page } = await openPage(env.browser, env.site.url(path));
  assert.equal(await page.evaluate(() => window.seen), 'hidden');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.phone')).visibility), 'visible');
  assert.equal(await page.evaluate(() => document.querySelector('.phone').textContent), '030 9876543');
  await page.context().close();
});
