import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** A counter PC whose reader agent may sign card reads with its own key (real cards cannot sign for us). */
export const ReaderTerminalSchema = defineEntity({
  name: 'ReaderTerminal',
  tableName: 'reader_terminal',
  properties: {
    /** As the agent's `enroll` prints it, e.g. T-1a2b3c4d. */
    terminalId: p.string().length(20).primary(),
    /** base64url of the raw 32-byte Ed25519 public key. */
    publicKey: p.string().length(43),
    label: p.string().length(100),
    enrolledAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
  },
});

export type ReaderTerminal = InferEntity<typeof ReaderTerminalSchema>;
