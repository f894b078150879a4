// One version and one licence everywhere: the top-level CMakeLists.txt's project(VERSION)
// (which the binaries print through <callswap/version.hpp>) against the npm package, its
// module, the WordPress plugin and the changelog.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const read = (...parts) => fs.readFileSync(path.join(root, ...parts), 'utf8');
const version = /^project\(callswap VERSION ([0-9]+\.[0-9]+\.[0-9]+)/m.exec(read('CMakeLists.txt'))[1];

test('the npm package, its module, the WordPress plugin and the changelog carry the project version', () => {
  assert.equal(JSON.parse(read('packages', 'callswap', 'package.json')).version, version, 'packages/callswap/package.json');
  assert.match(read('packages', 'callswap', 'index.js'), new RegExp(`^export const version = '${version}';$`, 'm'), 'packages/callswap/index.js');
  const plugin = read('integrations', 'wordpress', 'callswap', 'callswap.php');
  assert.match(plugin, new RegExp(`^ \\* Version:\\s+${version}$`, 'm'), 'the plugin header');
  assert.match(plugin, new RegExp(`^const CALLSWAP_PLUGIN_VERSION = '${version}';$`, 'm'), 'the plugin constant');
  assert.match(read('integrations', 'wordpress', 'callswap', 'readme.txt'), new RegExp(`^Stable tag: ${version}$`, 'm'), 'readme.txt');
  assert.match(read('CHANGELOG.md'), new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'), 'CHANGELOG.md');
});

test('everything says Apache-2.0', () => {
  assert.match(read('LICENSE'), /^\s*Apache License\s+Version 2\.0, January 2004/);
  assert.equal(JSON.parse(read('package.json')).license, 'Apache-2.0');
  assert.equal(JSON.parse(read('packages', 'callswap', 'package.json')).license, 'Apache-2.0');
  assert.match(read('integrations', 'wordpress', 'callswap', 'callswap.php'), /^ \* License:\s+Apache-2\.0$/m);
  assert.match(read('integrations', 'wordpress', 'callswap', 'readme.txt'), /^License: Apache-2\.0$/m);
  assert.match(read('README.md'), /\[Apache License 2\.0\]\(LICENSE\)/);
});
