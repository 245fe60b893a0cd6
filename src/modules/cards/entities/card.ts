import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** An NHI card of the card registry, as imported from cards.csv. */
export const CardSchema = defineEntity({
  name: 'Card',
  tableName: 'card',
  properties: {
    cardNumber: p.character().length(12).primary(),
    /** The holder; a person of the household registry (checked on import, not a foreign key across modules). */
    idNumber: p.character().length(10).index(),
    /** YYYY-MM-DD. */
    issuedOn: p.date(),
    status: p.enum(['valid', 'void']),
    /** base64url of the raw 32-byte Ed25519 public key that verifies the card's signed reads. */
    publicKey: p.text().nullable(),
  },
});

export type Card = InferEntity<typeof CardSchema>;
