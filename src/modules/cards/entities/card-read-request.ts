import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** The card as a verified read found it in the registries: what the page's flow may use. */
export interface ReadCard {
  cardNumber: string;
  idNumber: string;
  name: string;
}

export const CARD_READ_STATES = ['pending', 'verified', 'claimed', 'failed'] as const;
export type CardReadState = (typeof CARD_READ_STATES)[number];

/**
 * A card-read request (READER-AGENT.md): created when a page shows the card panel, answered by the
 * agent's signed assertion (pending → verified, or failed), then claimed by the session that asked.
 */
export const CardReadRequestSchema = defineEntity({
  name: 'CardReadRequest',
  tableName: 'card_read_request',
  properties: {
    id: p.string().length(64).primary(),
    /** SHA-256 (hex) of the express-session id: the binding, never the id itself. */
    sessionHash: p.character().length(64).index(),
    challenge: p.string().length(64),
    purpose: p.string().length(20),
    /** A path on this server, where the claim sends the person back. */
    returnTo: p.string().length(500),
    createdAt: p.datetime(),
    expiresAt: p.datetime().index(),
    state: p.enum([...CARD_READ_STATES]),
    failure: p.string().length(40).nullable(),
    card: p.json<ReadCard>().nullable(),
    verifiedAt: p.datetime().nullable(),
    /** The enrolled terminal that signed the read, when a terminal (not the card) signed it. */
    terminalId: p.string().length(20).nullable(),
    /** When the flow is already bound to a person: a card of anyone else is refused at the claim. */
    expectedIdNumber: p.character().length(10).nullable(),
  },
});

export type CardReadRequest = InferEntity<typeof CardReadRequestSchema>;
