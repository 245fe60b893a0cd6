import { createHash, randomBytes } from 'node:crypto';
import { deriveKey, keyedDigest, randomCode, sameDigest } from '../../platform/secrets.js';

/** Digits and capitals without look-alikes (0/O, 1/I/L), so a code read off the screen is typed right. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 8;
const CODE_SHAPE = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);

/** A new device code from the CSPRNG. */
export function newDeviceCode(): string {
  return randomCode(CODE_ALPHABET, CODE_LENGTH);
}

/** What the person typed, as a code: case, spaces and dashes forgiven; null when it cannot be one. */
export function normaliseCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  return CODE_SHAPE.test(code) ? code : null;
}

/** Access tokens live 15 minutes: the app logs in again with the password, which a lockout can stop. */
export const ACCESS_TOKEN_SECONDS = 15 * 60;

export interface AccessClaims {
  bindingId: string;
  epoch: number;
  expiresAt: number;
}

const DEVICE_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The keys are derived from SESSION_SECRET, so every app process of one site accepts the same codes and tokens. */
export class DeviceSecrets {
  private readonly codeKey: Buffer;
  private readonly accessKey: Buffer;

  constructor(sessionSecret: string) {
    this.codeKey = deriveKey(sessionSecret, 'device-code');
    this.accessKey = deriveKey(sessionSecret, 'app-access-token');
  }

  codeHash(code: string): string {
    return keyedDigest(this.codeKey, code);
  }

  /** A device token for the app to keep; the table keeps only deviceTokenHash of it. */
  newDeviceToken(): string {
    return randomBytes(32).toString('base64url');
  }

  deviceTokenHash(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  /** Whether a presented device token is the one whose hash is stored (in constant time). */
  deviceTokenMatches(token: string, storedHash: string): boolean {
    if (!DEVICE_TOKEN_SHAPE.test(token)) return false;
    return sameDigest(this.deviceTokenHash(token), storedHash);
  }

  /** `<binding id>.<epoch>.<expiry, unix seconds>.<HMAC>`: checked against the database on every call. */
  accessToken(claims: AccessClaims): string {
    const payload = `${claims.bindingId}.${claims.epoch}.${claims.expiresAt}`;
    return `${payload}.${this.sign(payload)}`;
  }

  /** The claims of a token this site signed, or null (its expiry is the caller's to check). */
  readAccessToken(token: string): AccessClaims | null {
    const parts = token.split('.');
    if (parts.length !== 4) return null;
    const [bindingId, epoch, expiresAt, signature] = parts as [string, string, string, string];
    if (!UUID.test(bindingId) || !/^\d{1,9}$/.test(epoch) || !/^\d{1,12}$/.test(expiresAt)) return null;
    if (!sameDigest(this.sign(`${bindingId}.${epoch}.${expiresAt}`), signature)) return null;
    return { bindingId, epoch: Number(epoch), expiresAt: Number(expiresAt) };
  }

  private sign(payload: string): string {
    return keyedDigest(this.accessKey, payload);
  }
}
