import type { EntityManager } from '@mikro-orm/core';
import type { Clock } from '../clock.js';
import { keyedDigest } from '../secrets.js';
import { AuditEventSchema, type AuditEvent } from './entity.js';

export { AuditEventSchema, type AuditEvent };
export {
  AUDIT_CSV_COLUMNS,
  AUDIT_OUTCOMES,
  csvCell,
  csvLine,
  formatPosition,
  parsePosition,
  searchAudit,
  writeAuditCsv,
  type AuditFilter,
  type AuditPage,
  type AuditPosition,
  type CsvExport,
} from './search.js';

export type ActorType = 'citizen' | 'staff' | 'employer' | 'system' | 'anonymous' | 'device';
export type Outcome = 'success' | 'failure' | 'refused';

export interface AuditEntry {
  actorType: ActorType;
  actorId?: string | null;
  action: string;
  subject?: string | null;
  /**
   * The person the event is about, by full ID number: stored only as its mask (the subject, when none is given)
   * and a keyed digest, so staff can find a person's events without the table holding ID numbers.
   */
  person?: string | null;
  outcome: Outcome;
  clientAddress?: string | null;
  detail?: Record<string, string | number | boolean | null | undefined>;
}

/** Detail keys whose values are never stored, whatever a caller passes. */
const SECRET_KEY = /pass(word)?|secret|token|code|captcha|assertion|challenge|key/i;
const MAX_TEXT = 200;

/**
 * Makes text safe to store and show: control characters (which could forge log lines or hide text)
 * become visible escapes, and length is capped.
 */
export function neutralise(value: string, max = MAX_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const visible = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return visible.length > max ? `${visible.slice(0, max - 1)}…` : visible;
}

/** A national ID or resident certificate number shown with its last four characters hidden: A12345****. */
export function maskIdNumber(id: string): string {
  return id.length > 4 ? `${id.slice(0, -4)}****` : '****';
}

/** Writes audit rows in the caller's unit of work, so a rolled-back change leaves no record of success. */
export class AuditLog {
  /** `subjectKey` keys the digests of `person` (derived from SESSION_SECRET, so every app process agrees). */
  constructor(private readonly clock: Clock, private readonly subjectKey: Buffer) {}

  /** What the table keeps to find a person's events. */
  personKey(idNumber: string): string {
    return keyedDigest(this.subjectKey, idNumber);
  }

  record(em: EntityManager, entry: AuditEntry): AuditEvent {
    return em.create(AuditEventSchema, this.row(entry));
  }

  /** Records in its own transaction: for events with no surrounding change (a refused login, a failed check). */
  async recordNow(em: EntityManager, entry: AuditEntry): Promise<void> {
    await em.fork().transactional(async (tx) => {
      this.record(tx, entry);
    });
  }

  /** recordNow in one statement, for hot paths (every login): the same row, no transaction around it. */
  async insertNow(em: EntityManager, entry: AuditEntry): Promise<void> {
    await em.fork().insert(AuditEventSchema, this.row(entry));
  }

  private row(entry: AuditEntry) {
    const detail: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries(entry.detail ?? {})) {
      if (value === undefined) continue;
      detail[neutralise(key, 40)] = SECRET_KEY.test(key) ? '[withheld]' : typeof value === 'string' ? neutralise(value) : value;
    }
    return {
      occurredAt: this.clock.now(),
      actorType: entry.actorType,
      actorId: entry.actorId ? neutralise(entry.actorId, 64) : null,
      action: neutralise(entry.action, 64),
      subject: entry.subject ? neutralise(entry.subject, 128) : entry.person ? maskIdNumber(entry.person) : null,
      subjectKey: entry.person ? this.personKey(entry.person) : null,
      outcome: entry.outcome,
      clientAddress: entry.clientAddress ? neutralise(entry.clientAddress, 64) : null,
      detail: Object.keys(detail).length ? detail : null,
    };
  }

  /** The newest events, of one person (by full ID number) or of everyone. */
  async recent(em: EntityManager, filter: { person?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    return em.fork().find(
      AuditEventSchema,
      filter.person ? { subjectKey: this.personKey(filter.person) } : {},
      { orderBy: { occurredAt: 'desc', id: 'desc' }, limit: filter.limit ?? 50 },
    );
  }
}
