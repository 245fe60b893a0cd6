import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactVerify, importJWK } from 'jose';
import { cardKeyPairFromSeed, publicKeyFromBase64url, signCardAssertion, type CardAssertionPayload } from '../../src/agent/index.js';

// RFC 8032, section 7.1, test 1.
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex').toString('base64url');

const payload: CardAssertionPayload = {
  v: 1,
  req: 'r1',
  challenge: Buffer.alloc(32, 1).toString('base64url'),
  aud: 'http://localhost:3000',
  iat: 1700000000,
  card: { number: '000012345678', idNumber: 'A123456789', name: '王小明', birthDate: '1980-01-31', sex: 'M', issuedOn: '2015-06-01' },
};

test('cardKeyPairFromSeed derives the raw public key (RFC 8032 vector)', () => {
  assert.equal(cardKeyPairFromSeed(SEED).publicKey, PUBLIC);
  assert.throws(() => cardKeyPairFromSeed(Buffer.alloc(31)), /32 bytes/);
});

test('signCardAssertion makes an EdDSA compact JWS that verifies with the raw public key', async () => {
  const jws = await signCardAssertion({ privateKeySeed: SEED, kid: 'card:000012345678', payload });
  assert.equal(jws.split('.').length, 3);
  const jwk = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: PUBLIC }, 'EdDSA');
  const { payload: body, protectedHeader } = await compactVerify(jws, jwk);
  assert.deepEqual(protectedHeader, { alg: 'EdDSA', kid: 'card:000012345678', typ: 'JWT' });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(body)), payload);
  await compactVerify(jws, publicKeyFromBase64url(PUBLIC));
  // Ed25519 is deterministic: same key and payload, same signature.
  assert.equal(await signCardAssertion({ privateKeySeed: SEED, kid: 'card:000012345678', payload }), jws);
});
