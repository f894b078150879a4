// The SDK's own wasm runtime (web/wasm-runtime.js), which replaces Emscripten's glue in the
// page bundle: the names it reads from the glue of the same build, and the core working
// through it, including after the memory grew.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactConfig, createMatcher, loadSite } from '../../web/core.js';
import { instantiateCore, wasmNamesFromGlue } from '../../web/wasm-runtime.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = process.env.CALLSWAP_DIST_DIR || path.join(here, '..', '..', 'dist');
const glue = process.env.CALLSWAP_WASM_GLUE || path.join(here, '..', '..', 'build-wasm', 'wasm', 'callswap.js');
const names = wasmNamesFromGlue(fs.readFileSync(glue, 'utf8'));
const decideNames = wasmNamesFromGlue(fs.readFileSync(path.join(path.dirname(glue), 'callswap-decide.js'), 'utf8'));
const exportList = (file) => JSON.parse(fs.readFileSync(path.join(here, '..', '..', 'wasm', file), 'utf8'));
const instantiate = (file, moduleNames) => instantiateCore((imports) => WebAssembly.instantiate(fs.readFileSync(path.join(dist, file)), imports), moduleNames);
const start = () => instantiate('callswap.wasm', names);

test('every export of wasm/exports.json and wasm/decide-exports.json is named', () => {
  assert.deepEqual(Object.keys(names.exports).sort(), exportList('exports.json').slice().sort());
  assert.deepEqual(Object.keys(decideNames.exports).sort(), exportList('decide-exports.json').slice().sort());
});

test('a glue that expects another import is refused', () => {
  const changed = fs.readFileSync(glue, 'utf8').replace(/asmLibraryArg=\{/, 'asmLibraryArg={"c":_fd_write,');
  assert.throws(() => wasmNamesFromGlue(changed), /_fd_write/);
});

test('the core swaps through the runtime, before and after the memory grew', async () => {
  const module = await start();
  const matcher = createMatcher(module, { country: 'DE', targets: ['+49301234567'] });
  matcher.setReplacement(0, '+49309876543');
  const before = module.HEAPU8.length;
  const filler = 'Lorem ipsum '.repeat(1000000); // 12 M UTF-16 units (24 MB): more than the initial 16 MB
  const edits = matcher.planEdits(`Tel. 030 1234567 ${filler} +49 30 1234567`);
  assert.ok(module.HEAPU8.length > before, 'the memory grew');
  assert.deepEqual(edits, [
    { start: 5, end: 16, text: '030 9876543' },
    { start: 18 + filler.length, end: 18 + filler.length + 14, text: '+49 30 9876543' },
  ]);
  const decide = await instantiate('callswap-decide.wasm', decideNames);
  const compact = compactConfig(decide, { site: 'a', country: 'DE', targets: ['+49301234567'], sources: [{ id: 'direct', static: '+49309876543', default: true }] });
  const site = loadSite(module, compact);
  assert.equal(site.attribute('https://a.example/', '').source, 'direct');
});
