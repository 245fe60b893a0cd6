import type { EntityManager } from '@mikro-orm/postgresql';
import { neutralise } from '../audit/index.js';
import { isDatabaseUnavailable } from '../db/index.js';
import type { Locale } from '../i18n/index.js';
import type { MailAttachment } from './entity.js';
import { messageIdFor, type MailDeps } from './deps.js';
import type { OutgoingMail } from './transport.js';

export interface MailWorkerOptions {
  /** How often `start()` looks for due mail. */
  pollIntervalMs?: number;
  /** Most messages one run delivers. */
  batchSize?: number;
  /** How long a claim lasts; past it, a `sending` row counts as abandoned. */
  leaseMs?: number;
  /** Retry delay: base · 2^(attempts-1), capped. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** After this many failed attempts the message is `failed`. */
  maxAttempts?: number;
}

export interface MailRunResult {
  sent: number;
  retried: number;
  failed: number;
  /** Abandoned claims found in this run and marked `in_doubt`. */
  inDoubt: number;
}

interface ClaimedRow {
  id: string;
  idempotency_key: string;
  template: string;
  locale: Locale;
  recipient: string;
  payload: Record<string, unknown>;
  attachments: MailAttachment[] | null;
  attempts: number;
}

type Outcome = 'sent' | 'retried' | 'failed';

/** The SMTP reply code of a nodemailer error, if the server gave one. */
function responseCode(err: unknown): number | undefined {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' ? code : undefined;
}

/** What went wrong, for operators: error code, reply and message only, never the message content. */
function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return neutralise(`${code}${message}`, 500);
}

/**
 * Delivers the outbox. Claims rows one at a time with FOR UPDATE SKIP LOCKED, so any number of
 * workers, in any number of processes, never claim the same row.
 *
 * Delivery is at most once. Exactly-once over SMTP is impossible: the server may accept a message and
 * the worker die before recording it. A `sending` row whose lease has expired is therefore never sent
 * again automatically; it becomes `in_doubt`, is audited and listed (Mailer.listInDoubt), and an
 * operator decides (Mailer.requeue). We choose never twice, and make the uncertain case visible
 * instead of silently duplicating.
 */
export class MailWorker {
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxAttempts: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopping = false;
  /** Runs are serialised: the polling loop and a direct runOnce() never overlap in one worker. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: MailDeps, options: MailWorkerOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 20;
    this.leaseMs = options.leaseMs ?? 2 * 60_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 5000;
    this.backoffMaxMs = options.backoffMaxMs ?? 3600_000;
    this.maxAttempts = options.maxAttempts ?? 20;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    const tick = async () => {
      try {
        await this.runOnce();
      } catch (err) {
        this.deps.log(`mail worker: ${errorText(err)}`);
      }
      if (this.running) this.timer = setTimeout(tick, this.pollIntervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling and waits for the message in flight (if any) to be sent and recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => {});
  }

  /** One pass: marks abandoned claims, then delivers up to batchSize due messages. stop() ends it after the current one. */
  runOnce(): Promise<MailRunResult> {
    this.stopping = false;
    const run = this.chain.catch(() => {}).then(() => this.run());
    this.chain = run;
    return run;
  }

  private em(): EntityManager {
    return this.deps.orm.em.fork();
  }

  private async run(): Promise<MailRunResult> {
    const result: MailRunResult = { sent: 0, retried: 0, failed: 0, inDoubt: await this.markAbandoned() };
    for (let i = 0; i < this.batchSize && !this.stopping; i++) {
      const row = await this.claim();
      if (!row) break;
      result[await this.deliver(row)]++;
    }
    return result;
  }

  /** Claims whose lease ran out: their worker died mid-send, so SMTP may already have the message. */
  private async markAbandoned(): Promise<number> {
    const now = this.deps.clock.now();
    return this.em().transactional(async (tx) => {
      const rows = await tx.execute<{ id: string; template: string; attempts: number }[]>(
        `update outbox_message set status = 'in_doubt', lease_until = null,
           last_error = 'delivery uncertain: the worker stopped while sending'
         where status = 'sending' and lease_until < ? returning id, template, attempts`,
        [now],
      );
      for (const row of rows) {
        this.deps.audit.record(tx, {
          actorType: 'system',
          actorId: 'mail-worker',
          action: 'mail.in_doubt',
          subject: row.id,
          outcome: 'failure',
          detail: { template: row.template, attempts: row.attempts },
        });
        this.deps.log(`mail ${row.id} (${row.template}) in doubt: not resent automatically`);
      }
      return rows.length;
    });
  }

  /** One due row, now `sending` with a lease, committed before anything is sent. */
  private async claim(): Promise<ClaimedRow | undefined> {
    const now = this.deps.clock.now();
    const rows = await this.em().execute<ClaimedRow[]>(
      `with due as (
         select id from outbox_message
         where status = 'pending' and next_attempt_at <= ?
         order by created_at, id
         limit 1
         for update skip locked
       )
       update outbox_message o
       set status = 'sending', lease_until = ?, attempts = o.attempts + 1
       from due where o.id = due.id
       returning o.id, o.idempotency_key, o.template, o.locale, o.recipient, o.payload, o.attachments, o.attempts`,
      [now, new Date(now.getTime() + this.leaseMs)],
    );
    return rows[0];
  }

  private async deliver(row: ClaimedRow): Promise<Outcome> {
    const { renderer, transport, mailFrom, publicOrigin, clock } = this.deps;
    let mail: OutgoingMail;
    try {
      const rendered = renderer.render(row.template, row.locale, row.payload);
      mail = {
        from: mailFrom,
        to: row.recipient,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        messageId: messageIdFor(row.idempotency_key, publicOrigin),
        date: clock.now(),
        attachments: (row.attachments ?? []).map((a) => ({
          filename: a.name,
          content: a.content,
          contentType: a.contentType ?? 'text/plain; charset=utf-8',
          ...(a.encoding ? { encoding: a.encoding } : {}),
        })),
      };
    } catch (err) {
      // A template that cannot render will not render next time either; nothing was sent.
      return this.fail(row, `render: ${errorText(err)}`);
    }

    let messageId: string;
    try {
      messageId = (await transport.send(mail)).messageId;
    } catch (err) {
      const code = responseCode(err);
      if (code !== undefined && code >= 500) return this.fail(row, errorText(err));
      if (row.attempts >= this.maxAttempts) return this.fail(row, errorText(err));
      return this.retry(row, errorText(err));
    }

    // Accepted. Also settles a row another worker has meanwhile marked in doubt: we know it went out.
    // If this update is lost (crash, database down past the lease) the lease expires and the row becomes in_doubt.
    await this.recordWhenReachable(() => this.em().execute(
      `update outbox_message set status = 'sent', sent_at = ?, message_id = ?, lease_until = null, last_error = null
       where id = ? and status in ('sending', 'in_doubt')`,
      [clock.now(), messageId.slice(0, 255), row.id],
    ));
    this.deps.log(`mail ${row.id} (${row.template}) sent`);
    return 'sent';
  }

  /**
   * Records what SMTP did, again and again while the database is unreachable (within the lease): only this worker knows
   * the outcome, so it waits for the database rather than leave a sent mail to turn in doubt. stop() ends the wait.
   */
  private async recordWhenReachable(update: () => Promise<unknown>): Promise<void> {
    const giveUpAt = Date.now() + this.leaseMs;
    for (;;) {
      try {
        await update();
        return;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || this.stopping || Date.now() >= giveUpAt) throw err;
        this.deps.log(`mail worker: waiting for the database to record a delivery: ${errorText(err)}`);
        await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs));
      }
    }
  }

  private async retry(row: ClaimedRow, error: string): Promise<Outcome> {
    const delay = Math.min(this.backoffBaseMs * 2 ** Math.max(0, row.attempts - 1), this.backoffMaxMs);
    const next = new Date(this.deps.clock.now().getTime() + delay);
    await this.recordWhenReachable(() => this.em().execute(
      `update outbox_message set status = 'pending', next_attempt_at = ?, lease_until = null, last_error = ?
       where id = ? and status = 'sending'`,
      [next, error, row.id],
    ));
    this.deps.log(`mail ${row.id} (${row.template}) attempt ${row.attempts} failed, retry in ${Math.round(delay / 1000)} s: ${error}`);
    return 'retried';
  }

  private async fail(row: ClaimedRow, error: string): Promise<Outcome> {
    await this.recordWhenReachable(() => this.em().transactional(async (tx) => {
      const updated = await tx.execute<{ id: string }[]>(
        `update outbox_message set status = 'failed', lease_until = null, last_error = ?
         where id = ? and status = 'sending' returning id`,
        [neutralise(error, 500), row.id],
      );
      if (!updated.length) return;
      this.deps.audit.record(tx, {
        actorType: 'system',
        actorId: 'mail-worker',
        action: 'mail.failed',
        subject: row.id,
        outcome: 'failure',
        detail: { template: row.template, attempts: row.attempts, error: error.slice(0, 200) },
      });
    }));
    this.deps.log(`mail ${row.id} (${row.template}) failed after ${row.attempts} attempt(s): ${error}`);
    return 'failed';
  }
}
