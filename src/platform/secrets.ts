// Keys derived from SESSION_SECRET and what is made with them. Every app process of one site shares the secret, so
// each accepts what another made: codes, tokens and values sealed into pages.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/** A key for one use: what is made for one use never passes for another. */
export function deriveKey(secret: string, use: string): Buffer {
  return createHmac('sha256', secret).update(use).digest();
}

/** HMAC-SHA-256 in base64url: what a table keeps of a short code (too few characters for a plain hash). */
export function keyedDigest(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/** Two digests compared in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A code of `length` characters drawn from `alphabet` by the CSPRNG. */
export function randomCode(alphabet: string, length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

/** Small values a page carries instead of the server storing them (a page view writes nothing): readable, not changeable. */
export class Sealer {
  private readonly key: Buffer;

  constructor(secret: string, use: string) {
    this.key = deriveKey(secret, `seal:${use}`);
  }

  mac(text: string): string {
    return keyedDigest(this.key, text);
  }

  seal(value: Record<string, string | number>): string {
    const body = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The sealed value, or null when it is not one this server made (or not text at all). */
  open(sealed: unknown): Record<string, unknown> | null {
    if (typeof sealed !== 'string' || sealed.length > 1000) return null;
    const [body, mac, extra] = sealed.split('.');
    if (!body || !mac || extra !== undefined || !sameDigest(this.mac(body), mac)) return null;
    try {
      const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
}
