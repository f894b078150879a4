// The site owner's messages, without a browser: each names the cause and the fix, and each
// problem is said once.
import test from 'node:test';
import assert from 'node:assert/strict';
import { classifyCompileError, createProblems, describe, FATAL } from '../../web/problems.js';

test('every message starts with callswap: and names the fix', () => {
  assert.equal(describe('unknown_site', { site: 'shop', server: 'https://cs.example' }),
    'callswap: the server https://cs.example does not know the site "shop" (HTTP 404): check data-site against the site ids in the server\'s config');
  assert.match(describe('origin_not_allowed', { origin: 'https://a.example', site: 'shop', server: 'https://cs.example' }),
    /add "https:\/\/a\.example" to allowed_origins of site "shop"/);
  assert.match(describe('invalid_config', { errors: ['targets[0]: bad', 'sources: empty'] }), /targets\[0\]: bad; sources: empty\. Fix these fields/);
  assert.match(describe('wasm_blocked_by_csp'), /'wasm-unsafe-eval'/);
});

test('a problem is logged once; a tampered wasm is an error, the rest warnings', () => {
  const logged = [];
  const console = { warn: (m) => logged.push(['warn', m]), error: (m) => logged.push(['error', m]) };
  const problems = createProblems(console);
  assert.equal(problems.first(), null);
  problems.report('no_site');
  problems.report('no_site');
  problems.report('wasm_tampered', { url: 'https://x/callswap.wasm', integrity: 'sha384-abc' });
  assert.deepEqual(logged.map(([kind]) => kind), ['warn', 'error']);
  assert.deepEqual(problems.first(), { error: 'no_site', message: describe('no_site') });
});

test('a CSP refusal to compile is told apart from any other compile error', () => {
  const csp = new Error("WebAssembly.instantiateStreaming(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\"");
  assert.equal(classifyCompileError(csp), 'wasm_blocked_by_csp');
  assert.equal(classifyCompileError(new Error('WebAssembly.instantiate(): expected magic word')), 'start_failed');
  assert.ok(!FATAL.has('origin_not_allowed'), 'a refused origin leaves the static number running');
});
