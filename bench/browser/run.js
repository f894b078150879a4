// Browser benchmark: scanning and swapping generated pages of 1k, 10k and 100k
// elements in Debian's Chromium, against
//   floor  a bare TreeWalker pass reading every text node (the least any swap must do), and
//   regex  findandreplacedomtext (npm) replacing the same numbers with one regular expression,
// all in the same browser run; plus the cost of a MutationObserver update after inserting
// 10 nodes into each page, against a bare MutationObserver that reads the inserted nodes'
// text (measured the same way on the same page). Usage: node bench/browser/run.js [repetitions]
// BENCH_BASELINE_DIST=<dir with callswap.js and callswap.wasm> also measures that build (from
// a second callswap-server) on its own page in the same run; several as name=dir,name=dir.
'use strict';
const { startCallswap } = require('../../scripts/lib/callswap-server.js');
const { launchBrowser, startSite } = require('../../scripts/lib/test-site.js');
const { config, pageBody, startBuilds } = require('./pages.js');

const REPS = Number(process.argv[2] || 7);
const SIZES = (process.env.BENCH_SIZES || "1000,10000,100000").split(",").map(Number);
async function main() {
  const site = await startSite();
  const callswap = await startCallswap([{ config, allowed_origins: [site.origin] }]);
  site.callswapUrl = callswap.url;
  const { builds: variants, stop: stopBaselines } = await startBuilds(site, callswap, startCallswap);
  for (const variant of variants) {
    site.pages[`/bench-${variant.name}.html`] = `<!doctype html><html><head><meta charset="utf-8">
    <script>window.callswapConfig = ${JSON.stringify(config)};</script>
    <script src="/node_modules/findandreplacedomtext/src/findAndReplaceDOMText.js"></script>
    <script src="${variant.url}/callswap.js"></script></head><body><div id="root"></div></body></html>`;
  }
  const browser = await launchBrowser();
  const rows = [];
  for (const size of SIZES) for (const variant of variants) {
    // One page per size; every pass is repeated on the same, warm DOM and the median kept.
    const page = await browser.newPage();
    await page.goto(site.url(`/bench-${variant.name}.html`));
    await page.evaluate(() => window.callswap.ready);
    await page.evaluate((html) => { document.getElementById('root').innerHTML = html; }, pageBody(size).body);
    const result = await page.evaluate(async (reps) => {
      const now = () => performance.now();
      const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
      const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
      const times = { floor: [], swap: [], regex: [] };
      let edits = 0;
      let replaced = 0;
      const regex = /(?:\+49\s?(?:\(0\)\s?)?|0049\s?|\(?0)30\)?[\s/-]?1\s?2\s?3\s?4\s?5\s?6\s?7/g;
      for (let rep = 0; rep < reps + 1; rep++) { // the first pass of each only warms up
        await settle();
        // The floor: every text node visited and read once.
        let t = now();
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        let chars = 0;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) chars += node.nodeValue.length;
        if (rep) times.floor.push(now() - t);
        if (chars === 0) throw new Error('the floor pass read no text: the page did not load');
        // callswap: its full scan and swap of the page (the first swap's work).
        window.callswap.revert();
        await settle();
        t = now();
        edits = window.callswap.rescan();
        if (rep) times.swap.push(now() - t);
        window.callswap.revert();
        await settle();
        // findandreplacedomtext with one regular expression for the same numbers.
        replaced = 0;
        t = now();
        const finder = window.findAndReplaceDOMText(document.body, { find: regex, replace: () => { replaced++; return '030 9876543'; } });
        if (rep) times.regex.push(now() - t);
        finder.revert();
        window.callswap.rescan();
      }
      // What both kinds of update measure: 10 paragraphs, each with a number, inserted at once.
      const insertTenNumbers = () => {
        const box = document.createElement('section');
        for (let n = 0; n < 10; n++) {
          const p = document.createElement('p');
          p.textContent = `Neu ${n}: 030 1234567`;
          box.append(p);
        }
        document.getElementById('root').append(box);
        return box;
      };
      // A MutationObserver update: 10 nodes inserted into the swapped page.
      const updates = [];
      for (let i = 0; i < reps; i++) {
        await settle();
        const done = new Promise((resolve) => document.addEventListener('callswap:swap', resolve, { once: true }));
        const t = now();
        const box = insertTenNumbers();
        await done;
        updates.push(now() - t);
        box.remove();
      }
      // The floor of an update: a bare MutationObserver reading the inserted nodes' text,
      // callswap paused (revert) so that only the bare observer runs.
      window.callswap.revert();
      const bareUpdates = [];
      for (let i = 0; i < reps; i++) {
        await settle();
        let finish;
        const done = new Promise((resolve) => {
          finish = resolve;
        });
        const observer = new MutationObserver((records) => {
          let chars = 0;
          for (const record of records) {
            for (const node of record.addedNodes) {
              const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
              for (let text = walker.nextNode(); text; text = walker.nextNode()) chars += text.nodeValue.length;
            }
          }
          finish(chars);
        });
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
        const t = now();
        const box = insertTenNumbers();
        if ((await done) === 0) throw new Error('the bare observer read nothing');
        bareUpdates.push(now() - t);
        observer.disconnect();
        box.remove();
      }
      window.callswap.rescan();
      return { floor: median(times.floor), swap: median(times.swap), regex: median(times.regex), edits, replaced,
        update: median(updates), bareUpdate: median(bareUpdates) };
    }, REPS);
    await page.close();
    rows.push({ name: variant.name, size, floor: result.floor, callswap: result.swap, regex: result.regex, edits: result.edits,
      regexEdits: result.replaced, update: result.update, bareUpdate: result.bareUpdate });
  }
  await browser.close();
  await callswap.stop();
  await stopBaselines();
  await site.close();

  console.log(`browser bench: Chromium ${REPS} runs per size, medians in ms`);
  console.log('build    | elements | floor (TreeWalker) | callswap scan+swap | findandreplacedomtext | callswap/floor | regex/callswap | numbers swapped (callswap, regex)');
  for (const r of rows) {
    console.log(`${r.name.padEnd(8)} | ${String(r.size).padStart(8)} | ${r.floor.toFixed(2).padStart(18)} | ${r.callswap.toFixed(2).padStart(17)} | ` +
      `${r.regex.toFixed(2).padStart(21)} | ${(r.callswap / r.floor).toFixed(1).padStart(14)} | ` +
      `${(r.regex / r.callswap).toFixed(1).padStart(14)} | ${r.edits}, ${r.regexEdits}`);
  }
  for (const r of rows) {
    console.log(`${r.name}: MutationObserver update, 10 nodes inserted into the ${r.size} page: ${r.update.toFixed(2)} ms, ` +
      `bare observer ${r.bareUpdate.toFixed(2)} ms (${(r.update / r.bareUpdate).toFixed(1)}×; ${(r.update / r.callswap * 100).toFixed(2)} % of a full scan)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
