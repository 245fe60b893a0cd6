// The signed card read (compact JWS, EdDSA/Ed25519) the agent hands back to the server page.
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import type { CardAssertionPayload } from '../protocol/index.js';

export type { CardAssertionPayload };

export interface CardKeyPair {
  /** Raw 32-byte Ed25519 public key, base64url: what the card registry / terminal enrolment stores. */
  publicKey: string;
  privateKey: KeyObject;
  publicKeyObject: KeyObject;
}

// PKCS#8 DER header for an Ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// SPKI DER header for an Ed25519 public key; the 32 raw bytes follow it.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new Error(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function cardKeyPairFromSeed(seed: Uint8Array): CardKeyPair {
  const privateKey = privateKeyFromSeed(seed);
  const publicKeyObject = createPublicKey(privateKey);
  const { x } = publicKeyObject.export({ format: 'jwk' });
  return { publicKey: String(x), privateKey, publicKeyObject };
}

/** The public KeyObject for a raw base64url Ed25519 public key (as stored by the registry). */
export function publicKeyFromBase64url(publicKey: string): KeyObject {
  const raw = Buffer.from(publicKey, 'base64url');
  if (raw.length !== 32) throw new Error('Ed25519 public key must be 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** A fresh random 32-byte Ed25519 seed. */
export const generateSeed = (): Buffer => randomBytes(32);

export async function signCardAssertion(input: {
  privateKeySeed: Uint8Array;
  kid: string;
  payload: CardAssertionPayload;
}): Promise<string> {
  const key = privateKeyFromSeed(input.privateKeySeed);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(input.payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid: input.kid, typ: 'JWT' })
    .sign(key);
}
