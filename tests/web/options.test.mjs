// What the script tag says, without a browser.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readOptions } from '../../web/options.js';

const tag = (attributes) => (name) => attributes[name] || '';

test('data-site, then ?site= in the script URL, then the inline config name the site', () => {
  assert.equal(readOptions('https://cs.example/callswap.js?site=b', tag({ site: 'a' })).siteId, 'a');
  assert.equal(readOptions('https://cs.example/callswap.js?site=b', tag({})).siteId, 'b');
  assert.equal(readOptions('https://cs.example/callswap.js', tag({}), { site: 'c' }).siteId, 'c');
  assert.equal(readOptions('https://cs.example/callswap.js', tag({})).siteId, '');
});

test('the server is data-server or the script\'s origin, without a trailing slash', () => {
  assert.equal(readOptions('https://cs.example/sdk/callswap.js', tag({})).serverUrl, 'https://cs.example');
  assert.equal(readOptions('https://a.example/callswap.js', tag({ server: 'https://cs.example//' })).serverUrl, 'https://cs.example');
});

test('carrying the source is opt-in with data-carry-source="link"', () => {
  assert.equal(readOptions('https://cs.example/callswap.js', tag({})).carrySource, false);
  assert.equal(readOptions('https://cs.example/callswap.js', tag({ 'carry-source': 'link' })).carrySource, true);
  assert.equal(readOptions('https://cs.example/callswap.js', tag({ 'carry-source': 'cookie' })).carrySource, false);
});
