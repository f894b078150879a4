// What both browser benchmarks measure on: the site config and the generated pages.
'use strict';
const path = require('node:path');

const config = {
  site: 'bench',
  country: 'DE',
  targets: ['+49301234567'],
  sources: [{ id: 'direct', static: '+49309876543', default: true }],
};

// `size` div rows, one in five with the number in one of six written forms (some inside tel:
// links, some split over inline elements). Returns the markup and how many numbers it holds
// (a tel: link's href and text count as two).
function pageBody(size) {
  const forms = ['030 1234567', '+49 30 1234567', '(030) 123 45 67', '030/1234567', '+49 (0)30 123 45 67', '0049 30 1234567'];
  const html = [];
  let numbers = 0;
  for (let i = 0; i < size; i++) {
    if (i % 5 !== 0) {
      html.push(`<div class="row">Item ${i}: Lorem ipsum dolor sit amet, <b>consectetur</b> 2024-0${i % 9 + 1}-12.</div>`);
    } else if (i % 15 === 0) {
      html.push(`<div class="row">Anrufen: <a href="tel:+49301234567">${forms[i % forms.length]}</a></div>`);
      numbers += 2;
    } else if (i % 25 === 0) {
      html.push('<div class="row">Hotline <span>030</span> 1234567</div>');
      numbers += 1;
    } else {
      html.push(`<div class="row">Rufen Sie an: ${forms[i % forms.length]} (Mo–Fr)</div>`);
      numbers += 1;
    }
  }
  return { body: html.join(''), numbers };
}

// The builds a benchmark measures: the one in dist/ (served by `callswap`) and, from
// BENCH_BASELINE_DIST (a directory with callswap.js and callswap.wasm, or name=dir,name=dir),
// each baseline build from a callswap-server of its own, so a change and its baseline are
// measured in the same run. Returns [{name, url}] (baselines first) and stop().
async function startBuilds(site, callswap, startCallswap) {
  const builds = [];
  const servers = [];
  for (const entry of (process.env.BENCH_BASELINE_DIST || '').split(',').filter(Boolean)) {
    const [name, dir] = entry.includes('=') ? entry.split('=') : ['baseline', entry];
    const server = await startCallswap([{ config, allowed_origins: [site.origin] }], { static_dir: path.resolve(dir) });
    servers.push(server);
    builds.push({ name, url: server.url });
  }
  builds.push({ name: 'callswap', url: callswap.url });
  return { builds, stop: () => Promise.all(servers.map((server) => server.stop())) };
}

module.exports = { config, pageBody, startBuilds };
