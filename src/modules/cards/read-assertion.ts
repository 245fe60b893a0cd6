// The agent's signed card read: a compact JWS (EdDSA) whose kid names the card or the enrolled terminal.
import { createPublicKey, timingSafeEqual } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { z } from 'zod';

export type Signer = { kind: 'card'; cardNumber: string } | { kind: 'terminal'; terminalId: string };

export const TERMINAL_ID = /^T-[0-9a-f]{8}$/;
const MAX_JWS = 8 * 1024;

const PayloadSchema = z.object({
  v: z.literal(1),
  req: z.string(),
  challenge: z.string(),
  aud: z.string(),
  iat: z.number().int(),
  card: z.object({
    number: z.string().regex(/^\d{12}$/),
    idNumber: z.string().regex(/^[A-Z][A-Z0-9]\d{8}$/),
    name: z.string().min(1).max(40),
    birthDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    sex: z.enum(['M', 'F']),
    issuedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  }),
});
export type AssertionPayload = z.infer<typeof PayloadSchema>;

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
  const card = /^card:(\d{12})$/.exec(header.kid);
  if (card) return { kind: 'card', cardNumber: card[1]! };
  const terminal = /^terminal:(.+)$/.exec(header.kid);
  if (terminal && TERMINAL_ID.test(terminal[1]!)) return { kind: 'terminal', terminalId: terminal[1]! };
  return null;
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
