// Carrying the source in same-site links, without a browser.
import test from 'node:test';
import assert from 'node:assert/strict';
import { CARRY_PARAM, carriedSource, decorate } from '../../web/carry.js';

const page = 'https://shop.example/landing?gclid=abc';

test('same-site links get the source id, keeping their own query and fragment', () => {
  assert.equal(decorate('/prices?lang=de#top', page, 'google-ads'), `https://shop.example/prices?lang=de&${CARRY_PARAM}=google-ads#top`);
  assert.equal(decorate('contact', page, 'print'), `https://shop.example/contact?${CARRY_PARAM}=print`);
});

test('links that leave the site, are not http(s), or already carry it are left alone', () => {
  assert.equal(decorate('https://other.example/', page, 'google-ads'), null);
  assert.equal(decorate('https://sub.shop.example/', page, 'google-ads'), null);
  assert.equal(decorate('tel:+49301234567', page, 'google-ads'), null);
  assert.equal(decorate('mailto:a@shop.example', page, 'google-ads'), null);
  assert.equal(decorate(`/x?${CARRY_PARAM}=google-ads`, page, 'google-ads'), null);
  assert.equal(decorate('/x', page, '<script>'), null, 'only plain ids are carried');
});

test('the next page reads back only a plain source id', () => {
  assert.equal(carriedSource(`https://shop.example/x?${CARRY_PARAM}=google-ads`), 'google-ads');
  assert.equal(carriedSource('https://shop.example/x'), '');
  assert.equal(carriedSource(`https://shop.example/x?${CARRY_PARAM}=%3Cimg%3E`), '');
});
