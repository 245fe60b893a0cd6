import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * One e-mailed link (registration confirmation, password reset, deletion). Only the token's SHA-256
 * is kept: a database reader cannot use a link.
 */
export const LinkTokenSchema = defineEntity({
  name: 'LinkToken',
  tableName: 'link_token',
  properties: {
    /** SHA-256 of the token, base64url without padding: always 43 characters. */
    hash: p.character().length(43).primary(),
    purpose: p.string().length(20),
    /** Whom the link is for (e.g. an ID number). */
    subject: p.string().length(20),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    supersededAt: p.datetime().nullable(),
  },
  // Issuing and voiding find a subject's open tokens of one purpose.
  indexes: [{ properties: ['purpose', 'subject'] }],
});

export type LinkToken = InferEntity<typeof LinkTokenSchema>;
