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
