#!/usr/bin/env node
// Bundles the browser SDK (web/*.js, ES modules) with the Emscripten glue into the one file a
// page loads, dist/callswap.js, minified by esbuild. The project version and the SRI value of
// the callswap.wasm built alongside are written into the bundle, so the SDK refuses a wasm
// that is not the one it was built with.
//   scripts/bundle-sdk.mjs --glue <emscripten glue .js> --wasm <callswap.wasm> --version <x.y.z> --out <callswap.js>
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const name of ['glue', 'wasm', 'version', 'out']) {
  if (!args[name]) {
    console.error(`bundle-sdk: --${name} is required`);
    process.exit(2);
  }
}
const integrity = `sha384-${createHash('sha384').update(readFileSync(args.wasm)).digest('base64')}`;
const glue = resolve(args.glue);

await build({
  entryPoints: [join(root, 'web', 'main.js')],
  outfile: args.out,
  bundle: true,
  // One closure: the page gains exactly one global, window.callswap.
  format: 'iife',
  minify: true,
  target: 'es2020',
  legalComments: 'none',
  define: { CALLSWAP_VERSION: JSON.stringify(args.version), CALLSWAP_WASM_INTEGRITY: JSON.stringify(integrity) },
  // The glue's Node branch (the Node tests) requires these; it never runs in a page.
  external: ['fs', 'path'],
  logLevel: 'warning',
  plugins: [{
    // The glue is generated in the wasm build tree; modules import it by this name.
    name: 'callswap-glue',
    setup(b) {
      b.onResolve({ filter: /^callswap-glue$/ }, () => ({ path: glue }));
    },
  }],
});
console.log(`bundle-sdk: ${args.out} (version ${args.version}, wasm ${integrity})`);
