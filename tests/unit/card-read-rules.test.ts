import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClearForm, parseReadAnswer } from '../../src/modules/card-reads/forms.js';
import { cardNameMatches, isSafeReturnPath, maskCardNumber } from '../../src/modules/card-reads/rules.js';
import { assertionSigner } from '../../src/modules/card-reads/assertion.js';
import { bindingHash, ReadChallenges } from '../../src/modules/card-reads/challenge.js';

test('a return path is a path on this server', () => {
  for (const ok of ['/', '/register?step=2', '/account/devices#x']) assert.equal(isSafeReturnPath(ok), true, ok);
  for (const bad of ['//evil.example', '/\\evil.example', 'http://evil.example/', 'evil', '', '/a b', '/a\nb', '/\u0000', `/${'a'.repeat(500)}`, 42]) {
    assert.equal(isSafeReturnPath(bad), false, String(bad));
  }
});

test('the card name matches the registry, or its cut to the 20-byte name field', () => {
  assert.equal(cardNameMatches('王小明', '王小明'), true);
  assert.equal(cardNameMatches('王小明', '王大明'), false);
  // 11 Chinese characters take 22 Big5 bytes: the card holds the first 10.
  const long = '歐陽司馬諸葛上官東方慕容';
  assert.equal(cardNameMatches(long.slice(0, 10), long), true);
  assert.equal(cardNameMatches(long.slice(0, 9), long), false);
  assert.equal(cardNameMatches('SMITH JOHN ALEXANDER', 'SMITH JOHN ALEXANDER PAUL'), true);
  assert.equal(cardNameMatches('王小', '王小明'), false, 'a name that fits is never cut');
});

test('audit masks: card number and the browser binding', () => {
  assert.equal(maskCardNumber('000012345678'), '0000****5678');
  assert.match(bindingHash('abc'), /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(bindingHash('abc'), 'abc');
});

test('a sealed read request opens only with its own id, unaltered, under the same server secret', () => {
  const challenges = new ReadChallenges('a'.repeat(32));
  const terms = { purpose: 'login' as const, returnTo: '/', expiresAt: new Date('2026-03-02T04:05:00Z'), bindingHash: bindingHash('b'), expectedIdNumber: null };
  const { id, challenge } = challenges.seal(terms);
  assert.match(challenge, /^[A-Za-z0-9_-]{43,512}$/, 'what the agent accepts');
  assert.deepEqual(challenges.open(id, challenge), { id, ...terms });
  assert.equal(challenges.open(challenges.seal(terms).id, challenge), null, 'another id');
  assert.equal(new ReadChallenges('c'.repeat(32)).open(id, challenge), null, 'another secret');
  const bytes = Buffer.from(challenge, 'base64url');
  bytes[10] ^= 1;
  assert.equal(challenges.open(id, bytes.toString('base64url')), null, 'altered');
  const longest = challenges.seal({ ...terms, returnTo: `/${'a'.repeat(149)}`, expectedIdNumber: 'A123456789' });
  assert.ok(longest.challenge.length <= 512, `${longest.challenge.length} characters`);
});

test('the agent answer and the 清除 form are parsed strictly', () => {
  const declared = new Set(['login']);
  assert.deepEqual(parseReadAnswer({ assertion: 'a.b.c', error: 'no_card' }), { assertion: 'a.b.c' });
  assert.deepEqual(parseReadAnswer({ error: 'no_card', challenge: 'c' }), { error: 'no_card', challenge: 'c' });
  assert.deepEqual(parseReadAnswer({ error: 'no_card' }), { error: 'no_card', challenge: '' });
  assert.deepEqual(parseReadAnswer({ assertion: ['x'] }), { assertion: '' });
  assert.deepEqual(parseClearForm({ purpose: 'login', return: '/' }, declared), { purpose: 'login', returnTo: '/' });
  assert.equal(parseClearForm({ purpose: 'nope', return: '/' }, declared), null);
  assert.equal(parseClearForm({ purpose: 'login', return: '//evil.example' }, declared), null);
});

test('the signer is named by kid: a 12-digit card or an enrolled-format terminal, EdDSA only', () => {
  const jws = (header: object) => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.e30.sig`;
  assert.deepEqual(assertionSigner(jws({ alg: 'EdDSA', kid: 'card:000012345678' })), { kind: 'card', cardNumber: '000012345678' });
  assert.deepEqual(assertionSigner(jws({ alg: 'EdDSA', kid: 'terminal:T-1a2b3c4d' })), { kind: 'terminal', terminalId: 'T-1a2b3c4d' });
  assert.equal(assertionSigner(jws({ alg: 'HS256', kid: 'card:000012345678' })), null);
  assert.equal(assertionSigner(jws({ alg: 'none', kid: 'card:000012345678' })), null);
  assert.equal(assertionSigner(jws({ alg: 'EdDSA', kid: 'card:1234' })), null);
  assert.equal(assertionSigner(jws({ alg: 'EdDSA', kid: 'terminal:../x' })), null);
  assert.equal(assertionSigner('not a jws'), null);
});
