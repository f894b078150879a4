#!/usr/bin/env node
// Bundles the browser SDK (web/*.js, ES modules) into the one file a page loads,
// dist/callswap.js, minified by esbuild. The project version and the SRI values of the two
// wasm modules built alongside (callswap.wasm, callswap-decide.wasm) are written into the
// bundle, so the SDK refuses a wasm that is not the one it was built with. Emscripten's glue
// is not bundled: web/wasm-runtime.js stands in for it, with each module's minified import
// and export names read from its glue here.
//   scripts/bundle-sdk.mjs --glue <callswap.js glue> --wasm <callswap.wasm>
//     --decide-glue <callswap-decide.js glue> --decide-wasm <callswap-decide.wasm>
//     --version <x.y.z> --out <callswap.js>
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { wasmNamesFromGlue } from '../web/wasm-runtime.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const name of ['glue', 'wasm', 'decide-glue', 'decide-wasm', 'version', 'out']) {
  if (!args[name]) {
    console.error(`bundle-sdk: --${name} is required`);
    process.exit(2);
  }
}
const sri = (file) => `sha384-${createHash('sha384').update(readFileSync(file)).digest('base64')}`;
const names = (glue) => wasmNamesFromGlue(readFileSync(resolve(glue), 'utf8'));
const integrity = sri(args.wasm);

await build({
  entryPoints: [join(root, 'web', 'main.js')],
  outfile: args.out,
  bundle: true,
  // One closure: the page gains exactly one global, window.callswap.
  format: 'iife',
  minify: true,
  target: 'es2020',
  legalComments: 'none',
  define: {
    CALLSWAP_VERSION: JSON.stringify(args.version),
    CALLSWAP_WASM_INTEGRITY: JSON.stringify(integrity),
    CALLSWAP_WASM_NAMES: JSON.stringify(names(args.glue)),
    CALLSWAP_DECIDE_INTEGRITY: JSON.stringify(sri(args['decide-wasm'])),
    CALLSWAP_DECIDE_NAMES: JSON.stringify(names(args['decide-glue'])),
  },
  logLevel: 'warning',
});
console.log(`bundle-sdk: ${args.out} (version ${args.version}, wasm ${integrity})`);
