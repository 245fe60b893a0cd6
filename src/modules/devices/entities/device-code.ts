import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * One 行動裝置認證 code (產生裝置認證碼). Only its keyed hash is kept: the 8 characters are few enough that a plain
 * hash could be reversed by trying them all, a key the database does not hold cannot.
 */
export const DeviceCodeSchema = defineEntity({
  name: 'DeviceCode',
  tableName: 'device_code',
  properties: {
    /** HMAC-SHA256 of the code, base64url: 43 characters. */
    hash: p.character().length(43).primary(),
    idNumber: p.character().length(10),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    /** A newer code was generated: this one no longer binds. */
    supersededAt: p.datetime().nullable(),
  },
  // Generating a code voids the person's open ones.
  indexes: [{ properties: ['idNumber'] }],
});

export type DeviceCode = InferEntity<typeof DeviceCodeSchema>;
