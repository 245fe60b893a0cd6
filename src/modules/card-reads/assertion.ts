// The agent's signed card read: a compact JWS (EdDSA) whose kid names the card or the enrolled terminal.
import { createPublicKey, timingSafeEqual } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { z } from 'zod';
import { CARD_NUMBER, ID_NUMBER, parseKid, TERMINAL_ID, type CardAssertionPayload, type Signer } from '../../protocol/index.js';

export { TERMINAL_ID, type Signer };
export type AssertionPayload = CardAssertionPayload;

const MAX_JWS = 8 * 1024;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

// Typed as the protocol's payload, so the schema cannot drift from what the agent signs.
const PayloadSchema: z.ZodType<CardAssertionPayload> = z.object({
  v: z.literal(1),
  req: z.string(),
  challenge: z.string(),
  aud: z.string(),
  iat: z.number().int(),
  card: z.object({
    number: z.string().regex(CARD_NUMBER),
    idNumber: z.string().regex(ID_NUMBER),
    name: z.string().min(1).max(40),
    birthDate: z.string().regex(ISO_DATE),
    sex: z.enum(['M', 'F']),
    issuedOn: z.string().regex(ISO_DATE),
  }),
});

/** Who claims to have signed: read from the unverified header, only to pick the key. */
export function assertionSigner(jws: string): Signer | null {
  if (jws.length > MAX_JWS) return null;
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    return null;
  }
  if (header.alg !== 'EdDSA' || typeof header.kid !== 'string') return null;
  return parseKid(header.kid);
}

/** Verifies the signature with the raw base64url Ed25519 key and parses the payload. */
export async function verifyAssertion(jws: string, publicKey: string): Promise<AssertionPayload | 'invalid_signature' | 'malformed'> {
  let bytes: Uint8Array;
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    bytes = (await compactVerify(jws, key, { algorithms: ['EdDSA'] })).payload;
  } catch {
    return 'invalid_signature';
  }
  try {
    const parsed = PayloadSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : 'malformed';
  } catch {
    return 'malformed';
  }
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
