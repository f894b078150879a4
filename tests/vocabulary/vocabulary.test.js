// Where the same vocabulary must be spelled in several languages (C++ routes, the JSON
// schema, PHP, the Tag Manager template), the spellings are read from their files and
// compared here, so a change in one place that misses another fails the suite.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const read = (file) => fs.readFileSync(path.join(root, file), 'utf8');
const one = (text, regex, where) => {
  const found = text.match(regex);
  assert.ok(found, `${where}: the pattern was not found (has the file changed shape?)`);
  return found[1];
};

// callswap::is_valid_id in the core: 1 to 64 of a-z, 0-9, '-' and '_'.
const SITE_ID = '[a-z0-9_-]{1,64}';

test('the site id is the same pattern in the routes, the schema, the WordPress plugin and the GTM template', () => {
  assert.equal(one(read('server/routes.hpp'), /#define CALLSWAP_SITE "\((.+)\)"/, 'server/routes.hpp'), SITE_ID);
  const schema = JSON.parse(read('docs/site-config.schema.json'));
  assert.equal(schema.$defs.id.pattern, `^${SITE_ID}$`);
  assert.equal(schema.properties.site.$ref, '#/$defs/id');
  assert.equal(one(read('integrations/wordpress/callswap/includes/settings.php'), /preg_match\( '\/\^(.+?)\$\/', \$site \)/,
    'settings.php'), SITE_ID);
  const parameters = JSON.parse(one(read('integrations/gtm/template.tpl'), /___TEMPLATE_PARAMETERS___\s*([\s\S]*?)\s*___/, 'template.tpl'));
  const siteId = parameters.find((p) => p.name === 'siteId');
  assert.deepEqual(siteId.valueValidators.filter((v) => v.type === 'REGEX').map((v) => v.args[0]), [`^${SITE_ID}$`]);
});

test('the patterns accept and refuse the same ids as the core', () => {
  const id = new RegExp(`^${SITE_ID}$`);
  for (const ok of ['acme', 'a', 'shop-2_de', 'a'.repeat(64)]) assert.ok(id.test(ok), ok);
  for (const bad of ['', 'Acme', 'acme site', 'acme.de', 'a'.repeat(65), 'ä']) assert.ok(!id.test(bad), bad);
});

// include/callswap/vocabulary.hpp: the click ids and UTM keys, defined once for the C++ code.
const vocabulary = read('include/callswap/vocabulary.hpp');
const table = (name) => JSON.parse(`[${one(vocabulary, new RegExp(`${name}\\[\\] = \\{([^}]*)\\}`), `vocabulary.hpp ${name}`)}]`);
const CLICK_IDS = table('kClickIds');
const UTM_KEYS = table('kUtmKeys');

test('the click ids and UTM keys are listed once in the C++ code', () => {
  assert.deepEqual(CLICK_IDS, ['gclid', 'gbraid', 'wbraid', 'fbclid', 'msclkid', 'ttclid', 'li_fat_id']);
  assert.deepEqual(UTM_KEYS, ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content']);
  // No other list of them in the core or the server: a second list is how they drift apart.
  const cpp = (dir) => fs.readdirSync(path.join(root, dir)).filter((f) => /\.(cpp|hpp)$/.test(f)).map((f) => `${dir}/${f}`);
  for (const file of [...cpp('src'), ...cpp('server'), ...cpp('include/callswap'), ...cpp('wasm')]) {
    if (file === 'include/callswap/vocabulary.hpp') continue;
    const text = read(file);
    assert.ok(!/"gbraid"|"li_fat_id"|"utm_term"/.test(text), `${file} spells the click ids or UTM keys itself: use callswap/vocabulary.hpp`);
  }
});

test('the docs, the JSON schema, the API description and the SDK name the same click ids and UTM keys', () => {
  const schema = JSON.parse(read('docs/site-config.schema.json'));
  assert.deepEqual(schema.$defs.match.properties.click_ids.items.enum, CLICK_IDS);
  const row = one(read('docs/config.md'), /\| `match\.click_ids` \| list \| any of (.+) present \|/, 'docs/config.md');
  assert.deepEqual([...row.matchAll(/`(\w+)`/g)].map((m) => m[1]), CLICK_IDS);
  const openapi = read('docs/openapi.json');
  const campaign = JSON.parse(openapi).paths['/v1/sites/{site}/sessions'].post.requestBody.content['application/json'].schema;
  const properties = Object.keys(findCampaign(campaign, JSON.parse(openapi)));
  assert.deepEqual(properties.filter((p) => p.startsWith('utm_')), UTM_KEYS);
  // The SDK's campaign fields (web/core.js), in the order the core's compact touch has them.
  const sdk = JSON.parse(one(read('web/core.js'), /const CAMPAIGN = (\[[^\]]*\]);/, 'web/core.js').replaceAll("'", '"'));
  assert.deepEqual(sdk, [...UTM_KEYS, 'click_id', 'click_id_value']);
});

// The campaign object of the session request, through $refs.
function findCampaign(schema, spec) {
  const resolve = (s) => (s.$ref ? s.$ref.slice(2).split('/').reduce((o, k) => o[k], spec) : s);
  const found = resolve(schema).properties?.campaign;
  assert.ok(found, 'docs/openapi.json: the session request has a campaign');
  return resolve(found).properties;
}
