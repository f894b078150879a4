// Cold first swap: what a visitor's first page view costs. Each pass opens a fresh browser
// context (no HTTP cache, no compiled wasm) on a server-rendered page of 1k, 10k or 100k
// elements, and callswap fetches its script, wasm and site config from callswap-server and
// swaps the page. The floor is a bare TreeWalker pass over the same page (every text node
// read once), measured the same way in its own fresh context in the same run.
// Prints the medians per phase, from callswap.timings(): script start (navigation to the
// script running), wasm fetch+compile, config (fetched, then loaded into the core and the
// visit attributed), walk, match, apply, and the fixed set-up (everything that is not
// walking, matching or applying). Checks every pass swapped every number on the page.
// Usage: node bench/browser/cold.js [passes]     (BENCH_SIZES=1000,10000 to choose sizes)
// BENCH_BASELINE_DIST=<dir with callswap.js and callswap.wasm> also measures that build, from
// a second callswap-server, in the same passes (before/after of a change in one run); several
// as name=dir,name=dir.
'use strict';
const { startCallswap } = require('../../scripts/lib/callswap-server.js');
const { launchBrowser, startSite } = require('../../scripts/lib/test-site.js');
const { config, pageBody, startBuilds } = require('./pages.js');

const PASSES = Number(process.argv[2] || 7);
const SIZES = (process.env.BENCH_SIZES || '1000,10000,100000').split(',').map(Number);
// The floor page reads every text node once at the same point callswap would start.
const FLOOR_SCRIPT = `<script>
  const t = performance.now();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let chars = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) chars += node.nodeValue.length;
  window.floor = { ms: performance.now() - t, chars };
</script>`;

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const site = await startSite();
  const callswap = await startCallswap([{ config, allowed_origins: [site.origin] }]);
  site.callswapUrl = callswap.url;
  const { builds: variants, stop: stopBaselines } = await startBuilds(site, callswap, startCallswap);
  const browser = await launchBrowser();
  const rows = [];
  for (const size of SIZES) {
    const { body, numbers } = pageBody(size);
    const head = '<!doctype html><html><head><meta charset="utf-8"></head><body>';
    site.pages[`/floor-${size}.html`] = `${head}${body}${FLOOR_SCRIPT}</body></html>`;
    for (const variant of variants) {
      site.pages[`/cold-${variant.name}-${size}.html`] = `${head}${body}<script>document.addEventListener('callswap:swap',
        (e) => { window.firstEdits = window.firstEdits ?? e.detail.edits; });</script>
        <script src="${variant.url}/callswap.js" data-site="bench"></script></body></html>`;
    }
    const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (let pass = 0; pass < PASSES + 1; pass++) { // the first pass warms the server and the OS only
      let context = await browser.newContext();
      let page = await context.newPage();
      await page.goto(site.url(`/floor-${size}.html`), { timeout: 300000 });
      const floor = await page.evaluate(() => window.floor);
      await context.close();

      for (const variant of variants) {
        context = await browser.newContext();
        page = await context.newPage();
        await page.goto(site.url(`/cold-${variant.name}-${size}.html`), { timeout: 300000 });
        const state = await page.evaluate(() => window.callswap.ready);
        // The shadow-root sweep runs in the task after the first swap: let it end.
        await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
        const result = await page.evaluate(() => ({
          timings: window.callswap.timings(),
          edits: window.firstEdits,
          left: (document.body.textContent.match(/1234567|123 45 67/g) || []).length +
            document.querySelectorAll('a[href="tel:+49301234567"]').length,
        }));
        await context.close();
        if (state.mode !== 'static' || result.edits !== numbers || result.left !== 0) {
          throw new Error(`${variant.name} ${size}: the first swap changed ${result.edits} of ${numbers} numbers, ${result.left} left (mode ${state.mode})`);
        }
        if (pass) samples[variant.name].push({ floor: floor.ms, ...result.timings, edits: result.edits });
      }
    }
    for (const variant of variants) rows.push(summarize(variant.name, size, numbers, samples[variant.name]));
  }
  await browser.close();
  await callswap.stop();
  await stopBaselines();
  await site.close();

  const f = (x) => (x === undefined || Number.isNaN(x) ? '      -' : x.toFixed(1).padStart(7));
  console.log(`cold first swap: Chromium, ${PASSES} fresh contexts per size and page, medians in ms`);
  console.log('build    | elements | numbers | floor | first swap | ratio | above floor | script start | wasm fetch+compile | config fetch | config load | walk | match | apply | fixed set-up | shadow sweep (next task)');
  for (const r of rows) {
    console.log(`${r.name.padEnd(8)} | ${String(r.size).padStart(8)} | ${String(r.numbers).padStart(7)} |${f(r.floor)} | ${f(r.firstSwap)} | ` +
      `${(r.firstSwap / r.floor).toFixed(1).padStart(5)} | ${f(r.firstSwap - r.floor)} | ${f(r.scriptStart)} | ${f(r.wasm)} | ` +
      `${f(r.configFetched)} | ${f(r.configLoad)} |${f(r.walk)} |${f(r.match)} |${f(r.apply)} | ${f(r.setup)} | ${f(r.shadowSweep)}`);
  }
  console.log('every pass swapped every number on its page (checked)');
}

function summarize(name, size, numbers, samples) {
  const t = (key) => median(samples.map((s) => s[key]));
  const phase = (from, to) => median(samples.map((s) => s[to] - s[from]));
  const work = (s) => s.walk + s.match + s.apply;
  return {
    name, size, numbers,
    floor: t('floor'),
    scriptStart: t('script'),
    // From the script running to the first swap done: what callswap adds to the page.
    firstSwap: phase('script', 'swapped'),
    wasm: phase('script', 'wasm'),
    configFetched: phase('script', 'configFetched'),
    configLoad: median(samples.map((s) => s.config - Math.max(s.wasm, s.configFetched))),
    walk: t('walk'), match: t('match'), apply: t('apply'),
    setup: median(samples.map((s) => s.swapped - s.script - work(s))),
    shadowSweep: samples[0].shadowSweep === undefined ? undefined : t('shadowSweep'),
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
