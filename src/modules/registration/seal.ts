// Small values the page carries instead of the server storing them (a page view writes nothing): readable by the
// person, but any change breaks the MAC.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class Sealer {
  private readonly key: Buffer;

  /** One key per use, derived from the server secret: a seal of one kind never opens as another. */
  constructor(secret: string, use: string) {
    this.key = createHmac('sha256', secret).update(`registration-seal:${use}`).digest();
  }

  mac(text: string): string {
    return createHmac('sha256', this.key).update(text, 'utf8').digest('base64url');
  }

  seal(value: Record<string, string | number>): string {
    const body = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The sealed value, or null when it is not one this server made (or not text at all). */
  open(sealed: unknown): Record<string, unknown> | null {
    if (typeof sealed !== 'string' || sealed.length > 1000) return null;
    const [body, mac, extra] = sealed.split('.');
    if (!body || !mac || extra !== undefined) return null;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  /** MACs compared in constant time. */
  static same(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }
}
