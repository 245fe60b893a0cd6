import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** The card as a verified read found it in the registries: what the page's flow may use. */
export interface ReadCard {
  cardNumber: string;
  idNumber: string;
  name: string;
}

export const CARD_READ_STATES = ['verified', 'claimed', 'failed'] as const;
export type CardReadState = (typeof CARD_READ_STATES)[number];

/**
 * A card read the agent answered (READER-AGENT.md): written when the signed answer comes back (verified, or
 * failed), then claimed by the browser that asked. Its id, the request's, makes each answer single use.
 */
export const CardReadRequestSchema = defineEntity({
  name: 'CardReadRequest',
  tableName: 'card_read_request',
  properties: {
    id: p.string().length(32).primary(),
    /** SHA-256 (base64url) of the browser-binding cookie that asked: the binding, never the cookie itself. */
    bindingHash: p.character().length(43),
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
