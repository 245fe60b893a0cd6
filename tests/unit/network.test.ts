import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressList } from '../../src/platform/http/index.js';

test('INTRANET_ALLOW lists addresses and CIDR ranges, IPv4 and IPv6', () => {
  const allow = addressList(['127.0.0.1/8', '::1', '10.20.0.0/16', '2001:db8::/32']);
  for (const inside of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '10.20.30.40', '2001:db8::7', '::ffff:127.0.0.1', '::FFFF:10.20.1.1']) {
    assert.equal(allow.has(inside), true, inside);
  }
  for (const outside of ['203.0.113.9', '10.21.0.1', '::2', '2001:db9::1', '::ffff:203.0.113.9', '', 'localhost']) {
    assert.equal(allow.has(outside), false, outside);
  }
});

test('a typo in the list stops the start instead of allowing nothing or everything', () => {
  for (const bad of ['127.0.0.1/33', '::1/129', 'loopback', '10.0.0.0/8/8', '10.0.0.0/x', '']) {
    assert.throws(() => addressList([bad]), /not an address or CIDR range/, bad);
  }
  assert.equal(addressList([]).has('127.0.0.1'), false, 'an empty list lets nobody in');
});
