// Site config, source attribution, consent decision and session machine through wasm (the
// first-swap module callswap.wasm and the second, callswap-decide.wasm): the browser must
// decide exactly as the native core does.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { compactConfig, loadDecisions, loadSite } from '../../web/core.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const dist = process.env.CALLSWAP_DIST_DIR || path.join(here, '..', '..', 'dist');
// The Emscripten glue of the same wasm build (dist/callswap.js bundles it for pages only).
const glue = process.env.CALLSWAP_WASM_GLUE || path.join(here, '..', '..', 'build-wasm', 'wasm', 'callswap.js');
const require = createRequire(import.meta.url);
const createCallswapModule = require(glue);
const createCallswapDecideModule = require(path.join(path.dirname(glue), 'callswap-decide.js'));
const acme = fs.readFileSync(path.join(here, '..', '..', 'examples', 'configs', 'acme.json'), 'utf8');

const ready = createCallswapModule({ wasmBinary: fs.readFileSync(path.join(dist, 'callswap.wasm')) });
const decideReady = createCallswapDecideModule({ wasmBinary: fs.readFileSync(path.join(dist, 'callswap-decide.wasm')) });
// A config as the SDK gets it: validated and compact (the server's work, here the second module's).
const compactAcme = decideReady.then((module) => compactConfig(module, acme));

test('both modules read only the compact form, and refuse anything else', async () => {
  const module = await ready;
  const compact = await compactAcme;
  assert.throws(() => loadSite(module, acme), /not a compact site config/);
  // Cut anywhere before the consent section (written last, which this module leaves unread).
  assert.throws(() => loadSite(module, compact.slice(0, compact.indexOf('data-callswap-noswap'))), /not a compact site config/);
  assert.throws(() => loadSite(module, compact.slice(0, 20)), /not a compact site config/);
  const decide = await decideReady;
  assert.throws(() => loadDecisions(decide, compact.slice(0, -1)), /not a compact site config/);
  assert.throws(() => loadDecisions(decide, `${compact}1,`), /not a compact site config/);
});

test('a site config loads, and its matcher swaps the site numbers', async () => {
  const site = loadSite(await ready, await compactAcme);
  const matcher = site.matcher();
  matcher.setReplacement(0, '+49301111111');
  const text = 'Rufen Sie an: (030) 123 45 67 – danke!';
  assert.deepEqual(matcher.planEdits(text).map((e) => e.text), ['(030) 111 11 11']);
  site.destroy();
});

test('every config error comes back with its path', async () => {
  const module = await decideReady;
  assert.throws(
    () => compactConfig(module, { site: 'x', country: 'DE', targets: ['+49 30'], sources: [], colour: 1 }),
    (error) => {
      assert.equal(error.code, 'invalid_config');
      assert.deepEqual(error.errors, [
        'colour: unknown field',
        'targets[0]: "+49 30" is not a valid E.164 number (only digits may follow \'+\', without spaces or separators)',
        'sources: must list at least one source',
      ]);
      return true;
    },
  );
  assert.throws(() => compactConfig(module, '{"site": '), /invalid JSON at line 1, column 10/);
});

test('attribution picks the source and keeps only campaign details', async () => {
  const site = loadSite(await ready, await compactAcme);
  const a = site.attribute('https://acme.example/?utm_source=google&utm_medium=cpc&gclid=SECRET&email=x%40y.z', 'https://www.google.de/search?q=me');
  assert.equal(a.source, 'google-ads');
  assert.equal(a.reason, 'click id gclid');
  assert.equal(a.static, '+49301111111');
  assert.equal(a.pool, 'google-ads');
  assert.deepEqual(a.campaign, { utm_source: 'google', utm_medium: 'cpc', click_id: 'gclid' });
  assert.ok(!JSON.stringify(a).includes('SECRET'));
  const first = site.attribute('https://acme.example/?gclid=1', '', { source: 'organic', campaign: {} });
  assert.equal(first.source, 'organic');
  assert.equal(first.kept_earlier_touch, true);
  // The earlier touch crosses in compact form: strings of any bytes, campaign included.
  const stored = site.attribute('https://acme.example/', '', { source: 'google-ads', campaign: { utm_campaign: 'Sommer: 50% – ja' } });
  assert.equal(stored.source, 'google-ads');
  assert.equal(stored.campaign.utm_campaign, 'Sommer: 50% – ja');
  assert.equal(site.settings().pools, true);
  site.destroy();
});

test('the consent decision is the core\'s', async () => {
  const site = loadDecisions(await decideReady, await compactAcme);
  const acmeConsent = JSON.parse(acme).consent;
  assert.deepEqual(site.settings(), { signals: acmeConsent.signals, wp_consent_categories: ['marketing'] });
  assert.equal(site.consent({}).mode, 'static');
  const granted = site.consent({ cookieconsent: { valid: true, accepted: ['necessary', 'analytics'] } });
  assert.equal(granted.mode, 'dynamic');
  assert.equal(granted.may_store, true);
  assert.equal(site.consent({ manual: 'granted', gpc: true }).mode, 'static');
  assert.equal(site.consent({ manual: 'granted', cookieconsent: { valid: true, accepted: ['necessary'] } }).mode, 'static');
  site.destroy();
});

test('the session machine runs through wasm: consent, number, withdrawal', async () => {
  const site = loadDecisions(await decideReady, await compactAcme);
  const session = site.session('google-ads');
  assert.deepEqual(session.handle({ kind: 'start', now: 0, consent: false }), { mode: 'static', actions: [], wakeup: null });
  const requested = session.handle({ kind: 'consent', now: 1000, consent: true });
  assert.equal(requested.mode, 'requesting');
  assert.deepEqual(requested.actions, [{ kind: 'request_number', source: 'google-ads' }]);
  assert.equal(requested.wakeup, 5000);
  const shown = session.handle({ kind: 'assigned', now: 1200, session_id: 's1', number: '+49309876543', expires_in_ms: 1800000 });
  assert.deepEqual(shown.actions.map((a) => a.kind), ['store', 'show_dynamic']);
  assert.equal(shown.actions[1].number, '+49309876543');
  const withdrawn = session.handle({ kind: 'consent', now: 2000, consent: false });
  assert.deepEqual(withdrawn.actions, [{ kind: 'release', session_id: 's1' }, { kind: 'erase' }, { kind: 'show_static', source: 'google-ads' }]);
  assert.throws(() => session.handle({ kind: 'explode', now: 1 }), /unknown event kind/);
  session.destroy();
  site.destroy();
});

test('the JSON Schema and the core accept the same fields', async () => {
  const module = await decideReady;
  const schema = JSON.parse(fs.readFileSync(path.join(here, '..', '..', 'docs', 'site-config.schema.json'), 'utf8'));
  const base = JSON.parse(acme);
  const unknownFields = (config) => {
    try {
      compactConfig(module, config);
      return [];
    } catch (error) {
      return (error.errors || [error.message]).filter((e) => e.includes('unknown field'));
    }
  };
  // Every field the schema names is one the core knows, at each level.
  for (const key of Object.keys(schema.properties)) assert.deepEqual(unknownFields({ ...base, [key]: base[key] ?? [] }), [], key);
  for (const key of Object.keys(schema.$defs.source.properties)) {
    assert.deepEqual(unknownFields({ ...base, sources: [{ ...base.sources[5], [key]: base.sources[0][key] ?? null }] }), [], `sources[].${key}`);
  }
  for (const section of ['consent', 'session', 'swap']) {
    for (const key of Object.keys(schema.$defs[section].properties)) {
      // null is the wrong type for every field: a known one fails on its type, an unknown one as unknown.
      assert.deepEqual(unknownFields({ ...base, [section]: { [key]: null } }), [], `${section}.${key}`);
      assert.notDeepEqual(unknownFields({ ...base, [section]: { [`${key}_x`]: null } }), [], `${section}.${key}_x`);
    }
  }
  // And a field the schema does not name is refused by both.
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(unknownFields({ ...base, colour: 'red' }), ['colour: unknown field']);
});
