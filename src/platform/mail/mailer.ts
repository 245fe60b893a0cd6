import { randomUUID } from 'node:crypto';
import { FlushMode, LockMode, type EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import type { Locale } from '../i18n/index.js';
import { OutboxMessageSchema, type MailAttachment, type OutboxMessage, type OutboxStatus } from './entity.js';
import { type MailTemplate, type MailTemplateData, type RenderedMail } from './templates.js';
import { messageIdFor, type MailDeps } from './deps.js';
import { MailWorker, type MailWorkerOptions } from './worker.js';

export { messageIdFor, type MailDeps } from './deps.js';

export interface EnqueueRequest<T extends MailTemplate> {
  template: T;
  locale: Locale;
  to: string;
  data: MailTemplateData[T];
  /** The same key twice sends one mail: e.g. `registration-confirmation:<registrationId>:<n>`. */
  idempotencyKey: string;
  attachments?: MailAttachment[];
}

export interface EnqueueResult {
  id: string;
  /** False when the key was already queued (in this unit of work or committed earlier). */
  created: boolean;
}

/** What operators see of a message; never the payload (it may hold link tokens). */
export interface OutboxSummary {
  id: string;
  idempotencyKey: string;
  template: string;
  recipient: string;
  status: OutboxStatus;
  attempts: number;
  createdAt: Date;
  lastError: string | null;
}

const MAX_ATTACHMENT_CHARS = 5_000_000;
const PASSWORD_KEY = /pass(word)?|pwd/i;

function refusePasswords(value: unknown, path = 'data'): void {
  if (!value || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (PASSWORD_KEY.test(key)) throw new Error(`mail payload may not carry a password (${path}.${key})`);
    refusePasswords(inner, `${path}.${key}`);
  }
}

export function summarise(row: OutboxMessage): OutboxSummary {
  return {
    id: row.id,
    idempotencyKey: row.idempotencyKey,
    template: row.template,
    recipient: row.recipient,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.createdAt,
    lastError: row.lastError ?? null,
  };
}

/** Queues mail in the caller's unit of work; the MailWorker delivers it. */
export class Mailer {
  constructor(private readonly deps: MailDeps) {}

  /**
   * Adds the message to `em`'s unit of work: it is written when the caller's transaction commits and
   * vanishes if it rolls back. A key already queued (here or committed) is a no-op; two concurrent
   * transactions with one key meet the unique index and the later one fails, to be retried by its caller.
   */
  async enqueue<T extends MailTemplate>(em: EntityManager, request: EnqueueRequest<T>): Promise<EnqueueResult> {
    const { template, locale, to, idempotencyKey } = request;
    this.check(request);
    const attachments = request.attachments ?? [];

    // Queued earlier in this unit of work and not flushed yet.
    const pendingId = this.unflushed(em).get(idempotencyKey);
    if (pendingId) return { id: pendingId, created: false };
    // COMMIT flush mode: looking must not flush the caller's other pending changes as a side effect.
    const existing = await em.findOne(OutboxMessageSchema, { idempotencyKey }, { flushMode: FlushMode.COMMIT, fields: ['id'] });
    if (existing) return { id: existing.id, created: false };

    const now = this.deps.clock.now();
    const row = em.create(OutboxMessageSchema, {
      id: randomUUID(),
      idempotencyKey,
      template,
      locale,
      recipient: to,
      // Dates become ISO strings here rather than on the way through jsonb, so the row means the same in memory.
      payload: JSON.parse(JSON.stringify(request.data ?? {})) as Record<string, unknown>,
      attachments: attachments.length ? attachments.map((a) => ({ name: a.name, content: a.content, contentType: a.contentType, ...(a.encoding ? { encoding: a.encoding } : {}) })) : null,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    });
    return { id: row.id, created: true };
  }

  /**
   * enqueue() for many mails (a bulk registration's batch): the same checks, then one select of the keys already
   * queued and one insert of the rest, in the caller's transaction. Results are in the order of `requests`; a key
   * given twice is queued once. A key that a concurrent transaction queues first fails this one, as in enqueue().
   */
  async enqueueMany<T extends MailTemplate>(em: EntityManager, requests: readonly EnqueueRequest<T>[]): Promise<EnqueueResult[]> {
    if (!requests.length) return [];
    requests.forEach((request) => this.check(request));
    const known = this.unflushed(em);
    const keys = [...new Set(requests.map((r) => r.idempotencyKey))];
    const sql = em as SqlEntityManager;
    const stored = await sql.execute<{ id: string; idempotency_key: string }[]>('select id, idempotency_key from outbox_message where idempotency_key in (?)', [keys]);
    for (const row of stored) known.set(row.idempotency_key, row.id);

    const now = this.deps.clock.now();
    const fresh: (EnqueueRequest<T> & { id: string })[] = [];
    const results = requests.map((request): EnqueueResult => {
      const id = known.get(request.idempotencyKey);
      if (id) return { id, created: false };
      const row = { ...request, id: randomUUID() };
      known.set(request.idempotencyKey, row.id);
      fresh.push(row);
      return { id: row.id, created: true };
    });
    if (fresh.length) {
      // Written now, not at flush: the caller's other work in the transaction sees the rows, and one statement is fast.
      await sql.execute(
        `insert into outbox_message (id, idempotency_key, template, locale, recipient, payload, attachments, status, attempts, next_attempt_at, created_at)
         select id, idempotency_key, template, locale, recipient, payload, attachments, 'pending', 0, ?::timestamptz, ?::timestamptz
         from unnest(array[?]::uuid[], array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[], array[?]::jsonb[], array[?]::jsonb[])
           as m(id, idempotency_key, template, locale, recipient, payload, attachments)`,
        [
          now,
          now,
          fresh.map((m) => m.id),
          fresh.map((m) => m.idempotencyKey),
          fresh.map((m) => m.template),
          fresh.map((m) => m.locale),
          fresh.map((m) => m.to),
          // Dates become ISO strings, as enqueue() stores them.
          fresh.map((m) => JSON.stringify(m.data ?? {})),
          fresh.map((m) => (m.attachments?.length ? JSON.stringify(m.attachments.map((a) => ({ name: a.name, content: a.content, contentType: a.contentType, ...(a.encoding ? { encoding: a.encoding } : {}) }))) : null)),
        ],
        'run',
      );
    }
    return results;
  }

  /** What enqueue() and enqueueMany() refuse before anything is written. */
  private check(request: EnqueueRequest<MailTemplate>): void {
    const { template, to, idempotencyKey } = request;
    if (!this.deps.renderer.knows(template)) throw new Error(`unknown mail template "${template}"`);
    if (!idempotencyKey || idempotencyKey.length > 200) throw new Error('idempotencyKey must be 1-200 characters');
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(to) || to.length > 320) throw new Error('mail recipient is not an address');
    refusePasswords(request.data);
    const attachments = request.attachments ?? [];
    if (attachments.reduce((n, a) => n + a.content.length, 0) > MAX_ATTACHMENT_CHARS) throw new Error('mail attachments too large');
  }

  /** The outbox rows queued in this unit of work and not flushed yet, by key. */
  private unflushed(em: EntityManager): Map<string, string> {
    const outboxClass = em.getMetadata().find(OutboxMessageSchema.meta.className)!.class;
    const found = new Map<string, string>();
    for (const pending of em.getUnitOfWork().getPersistStack()) {
      if (pending instanceof outboxClass) found.set((pending as OutboxMessage).idempotencyKey, (pending as OutboxMessage).id);
    }
    return found;
  }

  /** Renders without queueing (previews, tests). */
  render<T extends MailTemplate>(template: T, locale: Locale, data: MailTemplateData[T]): RenderedMail {
    return this.deps.renderer.render(template, locale, JSON.parse(JSON.stringify(data ?? {})) as Record<string, unknown>);
  }

  messageIdFor(idempotencyKey: string): string {
    return messageIdFor(idempotencyKey, this.deps.publicOrigin);
  }

  async find(id: string): Promise<OutboxSummary | undefined> {
    const row = await this.deps.orm.em.fork().findOne(OutboxMessageSchema, { id });
    return row ? summarise(row) : undefined;
  }

  /** Messages whose delivery is uncertain (the worker died mid-send): for an operator to check and decide. */
  async listInDoubt(limit = 100): Promise<OutboxSummary[]> {
    const rows = await this.deps.orm.em.fork().find(OutboxMessageSchema, { status: 'in_doubt' }, { orderBy: { createdAt: 'desc' }, limit });
    return rows.map(summarise);
  }

  /**
   * An operator's decision to send an in-doubt (or failed) message again, accepting that the recipient
   * may get it twice. Returns false when the message is not in one of those states.
   */
  async requeue(id: string, actor: { type: 'staff' | 'system'; id?: string } = { type: 'system', id: 'operator' }): Promise<boolean> {
    return this.deps.orm.em.fork().transactional(async (tx) => {
      const row = await tx.findOne(OutboxMessageSchema, { id, status: { $in: ['in_doubt', 'failed'] } }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) return false;
      const before = row.status;
      row.status = 'pending';
      row.attempts = 0;
      row.nextAttemptAt = this.deps.clock.now();
      row.leaseUntil = null;
      this.deps.audit.record(tx, {
        actorType: actor.type,
        actorId: actor.id ?? null,
        action: 'mail.requeued',
        subject: row.id,
        outcome: 'success',
        detail: { template: row.template, from: before },
      });
      return true;
    });
  }

  /** A worker over the same outbox; more than one (in one process or many) may run at once. */
  createWorker(options: MailWorkerOptions = {}): MailWorker {
    return new MailWorker(this.deps, options);
  }
}
