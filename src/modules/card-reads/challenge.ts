// The card-read request carried by the page itself (READER-AGENT.md step 1): nothing is stored until a signed
// answer comes back, so a page view costs no database write.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../../platform/secrets.js';
import { CARD_READ_PURPOSE, isSafeReturnPath, type CardReadPurpose } from './rules.js';

/** What the server needs back from a card read, sealed into its challenge. */
export interface ReadRequest {
  id: string;
  purpose: CardReadPurpose;
  returnTo: string;
  expiresAt: Date;
  /** SHA-256 of the browser-binding cookie: only that browser may claim the read. */
  bindingHash: string;
  expectedIdNumber: string | null;
}

const MAC_BYTES = 32;
/** The agent takes challenges of up to 512 base64url characters (384 bytes): the return path must fit. */
export const MAX_CHALLENGE_RETURN_PATH = 150;

export const bindingHash = (binding: string): string => createHash('sha256').update(binding, 'utf8').digest('base64url');

/** Seals and opens read requests with a key derived from the server secret, shared by every app process. */
export class ReadChallenges {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = deriveKey(secret, 'card-read-challenge');
  }

  private mac(id: string, body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(id, 'utf8').update('\0').update(body).digest();
  }

  /** A new request: a random id and a challenge holding 32 random bytes, the request's terms and their MAC. */
  seal(request: Omit<ReadRequest, 'id'>): { id: string; challenge: string } {
    if (request.returnTo.length > MAX_CHALLENGE_RETURN_PATH) throw new Error('card read: return path too long');
    const id = randomBytes(24).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({
        n: randomBytes(32).toString('base64url'),
        p: request.purpose,
        r: request.returnTo,
        e: request.expiresAt.getTime(),
        b: request.bindingHash,
        ...(request.expectedIdNumber ? { x: request.expectedIdNumber } : {}),
      }),
      'utf8',
    );
    return { id, challenge: Buffer.concat([body, this.mac(id, body)]).toString('base64url') };
  }

  /** The request's terms, or null when the challenge is not one this server made for this id. */
  open(id: string, challenge: string): ReadRequest | null {
    if (typeof challenge !== 'string' || challenge.length > 512) return null;
    const bytes = Buffer.from(challenge, 'base64url');
    if (bytes.length <= MAC_BYTES) return null;
    const body = bytes.subarray(0, bytes.length - MAC_BYTES);
    if (!timingSafeEqual(bytes.subarray(bytes.length - MAC_BYTES), this.mac(id, body))) return null;
    let terms: Record<string, unknown>;
    try {
      terms = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
    const { p, r, e, b, x } = terms;
    if (typeof p !== 'string' || !CARD_READ_PURPOSE.test(p) || !isSafeReturnPath(r) || typeof e !== 'number' || typeof b !== 'string') return null;
    return { id, purpose: p, returnTo: r, expiresAt: new Date(e), bindingHash: b, expectedIdNumber: typeof x === 'string' ? x : null };
  }
}
