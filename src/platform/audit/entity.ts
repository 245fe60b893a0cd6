import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const AuditEventSchema = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_event',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    occurredAt: p.datetime().index(),
    actorType: p.string().length(20),
    actorId: p.string().length(64).nullable(),
    action: p.string().length(64).index(),
    subject: p.string().length(128).nullable().index(),
    /** Keyed digest of the person's ID number (AuditEntry.person): finds a person's events. */
    subjectKey: p.character().length(43).nullable().index(),
    outcome: p.string().length(20),
    clientAddress: p.string().length(64).nullable(),
    detail: p.json<Record<string, string | number | boolean | null>>().nullable(),
  },
  // The audit view pages newest first by (occurred_at, id): keyset pages read this index from their position.
  indexes: [{ properties: ['occurredAt', 'id'] }],
});

export type AuditEvent = InferEntity<typeof AuditEventSchema>;
