// The core compiled with em++ and called through wasm from Node: offsets must survive the
// JS↔wasm boundary as JS string indices, whatever non-ASCII text surrounds the number.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createMatcher } from '../../web/core.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const dist = process.env.CALLSWAP_DIST_DIR || path.join(here, '..', '..', 'dist');
// The Emscripten glue of the same wasm build (dist/callswap.js bundles it for pages only).
const glue = process.env.CALLSWAP_WASM_GLUE || path.join(here, '..', '..', 'build-wasm', 'wasm', 'callswap.js');
const createCallswapModule = createRequire(import.meta.url)(glue);

// Node 20 cannot fetch() a file path: hand the glue the wasm bytes.
const ready = createCallswapModule({ wasmBinary: fs.readFileSync(path.join(dist, 'callswap.wasm')) });

test('finds a number between non-ASCII text at JS string indices', async () => {
  const module = await ready;
  const m = createMatcher(module, { country: 'DE', targets: ['+49301234567'] });
  const cases = [
    'Rufen Sie uns an: 030 1234567 – wir freuen uns',
    '電話：030 1234567。',
    '📞📞 +49 (0)30 1234567 📞',
    'Ärger? 030\u00A0123\u00A045\u00A067!',
    'Tél. 0049 30 1234567',
  ];
  for (const text of cases) {
    const [match, ...rest] = m.find(text);
    assert.equal(rest.length, 0, text);
    const written = text.slice(match.start, match.end);
    assert.match(written, /^[+(0][\d\s()\u00A0+-]*7$/u, text);
    assert.equal(match.target, '+49301234567');
    assert.equal(match.kind, 'text');
  }
  m.destroy();
});

test('reports tel: links, forms and extensions', async () => {
  const module = await ready;
  const m = createMatcher(module, { country: 'DE', targets: ['+49301234567'] });
  const text = '<a href="tel:+49-30-1234567;ext=2">Zentrale 030 1234567-0</a>';
  const matches = m.find(text);
  assert.deepEqual(
    matches.map((x) => [text.slice(x.start, x.end), x.kind, x.form, text.slice(x.end, x.extensionEnd)]),
    [
      ['tel:+49-30-1234567', 'tel', 'international', ''],
      ['030 1234567', 'text', 'national', '-0'],
    ],
  );
  m.destroy();
});

test('plans edits in the page style, with offsets into the original string', async () => {
  const module = await ready;
  const m = createMatcher(module, { country: 'US', targets: ['+15551234567', '+15557654321'] });
  m.setReplacement(0, '+12125550199');
  const text = '¿Preguntas? ☎ (555) 123-4567 or 555.765.4321 · tel:1-555-123-4567';
  const edits = m.planEdits(text);
  assert.deepEqual(
    edits.map((e) => [text.slice(e.start, e.end), e.text]),
    [
      ['(555) 123-4567', '(212) 555-0199'],
      ['tel:1-555-123-4567', 'tel:+12125550199'],
    ],
  );
  m.setReplacement(0, null);
  assert.deepEqual(m.planEdits(text), []);
  m.destroy();
});

test('bad input gets the core\'s reason, not a crash', async () => {
  const module = await ready;
  assert.throws(() => createMatcher(module, { country: 'XX', targets: ['+49301234567'] }), /unknown country "XX"/);
  assert.throws(() => createMatcher(module, { country: 'DE', targets: ['030 1234567'] }), /not a valid E\.164 number/);
  const m = createMatcher(module, { country: 'DE', targets: ['+49301234567'] });
  assert.throws(() => m.setReplacement(0, '+49 30'), /not a valid E\.164 number/);
  assert.throws(() => m.setReplacement(5, '+49301234567'), /no such matcher or target/);
  // Lone surrogates and control characters are just text.
  assert.deepEqual(m.find('\uD800030 1234567\uDFFF\u0000').length, 1);
  m.destroy();
});

test('a large text crosses in one call and memory grows as needed', async () => {
  const module = await ready;
  const m = createMatcher(module, { country: 'DE', targets: ['+49301234567'] });
  const chunk = 'Lorem ipsum dolor sit amet, Straße 12, 10115 Berlin. Tel. 030 1234567 ';
  const text = chunk.repeat(20000);
  const matches = m.find(text);
  assert.equal(matches.length, 20000);
  assert.equal(matches[19999].start, 19999 * chunk.length + chunk.indexOf('030'));
  m.destroy();
});
