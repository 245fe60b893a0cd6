/** Field rules of the card registry; each returns the reason a value is wrong, or undefined. */

/** An NHI card number: exactly 12 digits (leading zeros are part of it). */
export function cardNumberError(value: string): string | undefined {
  return /^\d{12}$/.test(value) ? undefined : `"${value}" must be exactly 12 digits`;
}

/** base64url (no padding) of a raw 32-byte Ed25519 public key: 43 characters that decode and re-encode unchanged. */
export function publicKeyError(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(value) || Buffer.from(value, 'base64url').toString('base64url') !== value)
    return 'must be the base64url (no padding) of a 32-byte Ed25519 public key, or empty';
  return undefined;
}

export const CARD_STATUSES = ['valid', 'void'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];
