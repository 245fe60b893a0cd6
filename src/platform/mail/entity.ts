import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed', 'in_doubt'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** A text file sent with a mail (the bulk-upload result). Kept in the row, so it must stay small. */
export interface MailAttachment {
  name: string;
  content: string;
  contentType?: string;
  /** 'base64' for bytes that are not UTF-8 text (a Big5 result file, a workbook). */
  encoding?: 'base64';
}

/**
 * The transactional outbox: one row per e-mail, written in the same transaction as the change that
 * causes it, delivered later by the MailWorker.
 */
export const OutboxMessageSchema = defineEntity({
  name: 'OutboxMessage',
  tableName: 'outbox_message',
  properties: {
    id: p.uuid().primary(),
    /** Chosen by the caller (e.g. `registration-confirmation:<registrationId>:<n>`): enqueueing it again is a no-op. */
    idempotencyKey: p.string().length(200).unique(),
    template: p.string().length(64),
    locale: p.string().length(10),
    recipient: p.string().length(320),
    /** The template data. Never a password; may hold link tokens, so it is never logged. */
    payload: p.json<Record<string, unknown>>(),
    attachments: p.json<MailAttachment[]>().nullable(),
    status: p.enum([...OUTBOX_STATUSES]),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime(),
    leaseUntil: p.datetime().nullable(),
    lastError: p.string().length(500).nullable(),
    createdAt: p.datetime(),
    sentAt: p.datetime().nullable(),
    messageId: p.string().length(255).nullable(),
  },
  // The worker's claim: due pending rows, oldest first.
  indexes: [{ properties: ['status', 'nextAttemptAt'] }],
});

export type OutboxMessage = InferEntity<typeof OutboxMessageSchema>;
