import { taipeiTimestamp } from '../i18n/dates.js';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { AuditEventSchema, type AuditEvent } from './entity.js';

export const AUDIT_OUTCOMES = ['success', 'failure', 'refused'] as const;

/** What staff search the audit log by; every part given must match. */
export interface AuditFilter {
  /** AuditLog.personKey of the person's full ID number (the table never holds the number). */
  subjectKey?: string;
  /** A staff member's username: rows with actorType 'staff' and this actorId. */
  staff?: string;
  /** An exact action, or a prefix ending in '.' (`staff.` finds `staff.login`, `staff.create`, ...). */
  action?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  until?: Date;
  outcome?: (typeof AUDIT_OUTCOMES)[number];
}

/** A row's place in the newest-first order: keyset pagination resumes from one. */
export interface AuditPosition {
  occurredAt: Date;
  id: number;
}

export interface AuditPage {
  rows: AuditEvent[];
  /** Whether rows newer than the first / older than the last also match. */
  hasNewer: boolean;
  hasOlder: boolean;
}

/** A position as URL text (`<epoch ms>.<id>`), and back; null for text that is not one. */
export function formatPosition(position: AuditPosition): string {
  return `${position.occurredAt.getTime()}.${position.id}`;
}

export function parsePosition(text: string): AuditPosition | null {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(text);
  return match ? { occurredAt: new Date(Number(match[1])), id: Number(match[2]) } : null;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function filterWhere(filter: AuditFilter): FilterQuery<AuditEvent>[] {
  const where: FilterQuery<AuditEvent>[] = [];
  if (filter.subjectKey) where.push({ subjectKey: filter.subjectKey });
  if (filter.staff) where.push({ actorType: 'staff', actorId: filter.staff });
  if (filter.action) where.push({ action: filter.action.endsWith('.') ? { $like: `${escapeLike(filter.action)}%` } : filter.action });
  if (filter.from) where.push({ occurredAt: { $gte: filter.from } });
  if (filter.until) where.push({ occurredAt: { $lt: filter.until } });
  if (filter.outcome) where.push({ outcome: filter.outcome });
  return where;
}

// The plain bound on occurred_at (implied by the $or) lets PostgreSQL walk its index from the position on
// instead of sorting every matching row again for each page or batch.
const olderThan = (at: AuditPosition): FilterQuery<AuditEvent> => ({
  occurredAt: { $lte: at.occurredAt },
  $or: [{ occurredAt: { $lt: at.occurredAt } }, { id: { $lt: at.id } }],
});
const newerThan = (at: AuditPosition): FilterQuery<AuditEvent> => ({
  occurredAt: { $gte: at.occurredAt },
  $or: [{ occurredAt: { $gt: at.occurredAt } }, { id: { $gt: at.id } }],
});

const NEWEST_FIRST = { occurredAt: 'desc', id: 'desc' } as const;
const OLDEST_FIRST = { occurredAt: 'asc', id: 'asc' } as const;

/**
 * One page of matching rows, newest first: the newest, or those just older than `before`, or just newer than
 * `after` (keyset on (occurred_at, id): pages stay put while new rows arrive, and a deep page costs no more).
 */
export async function searchAudit(
  em: EntityManager,
  filter: AuditFilter,
  page: { before?: AuditPosition | null; after?: AuditPosition | null; size?: number } = {},
): Promise<AuditPage> {
  const size = page.size ?? 50;
  const where = filterWhere(filter);
  const options = { limit: size + 1, disableIdentityMap: true };
  if (page.after) {
    const found = await em.find(AuditEventSchema, { $and: [...where, newerThan(page.after)] }, { ...options, orderBy: OLDEST_FIRST });
    const rows = found.slice(0, size).reverse();
    const last = rows.at(-1);
    return { rows, hasNewer: found.length > size, hasOlder: last ? await exists(em, [...where, olderThan(last)]) : false };
  }
  const found = await em.find(AuditEventSchema, { $and: page.before ? [...where, olderThan(page.before)] : where }, { ...options, orderBy: NEWEST_FIRST });
  const rows = found.slice(0, size);
  const first = rows[0];
  return { rows, hasOlder: found.length > size, hasNewer: page.before && first ? await exists(em, [...where, newerThan(first)]) : false };
}

async function exists(em: EntityManager, where: FilterQuery<AuditEvent>[]): Promise<boolean> {
  return (await em.find(AuditEventSchema, { $and: where }, { limit: 1, fields: ['id'], disableIdentityMap: true })).length > 0;
}

/** Batches of every matching row, newest first, read by keyset so no more than one batch is held at a time. */
export async function* auditBatches(em: EntityManager, filter: AuditFilter, batchSize = 1000): AsyncGenerator<AuditEvent[]> {
  const where = filterWhere(filter);
  let resumeAt: AuditPosition | undefined;
  for (;;) {
    // Plain rows, not entities: hydrating 100,000 entities costs far more than the query (40 ms a batch).
    const found: AuditEvent[] = await em
      .createQueryBuilder(AuditEventSchema)
      .where({ $and: resumeAt ? [...where, olderThan(resumeAt)] : where })
      .orderBy(NEWEST_FIRST)
      .limit(batchSize)
      .execute('all', true);
    // The bigint id comes back raw, as text.
    const rows = found.map((row) => ({ ...row, id: Number(row.id) }));
    if (rows.length) yield rows;
    if (rows.length < batchSize) return;
    const last = rows.at(-1)!;
    resumeAt = { occurredAt: last.occurredAt, id: last.id };
  }
}

/** Characters that make Excel (and other spreadsheets) read a cell as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One RFC 4180 cell, always quoted; text a spreadsheet would run as a formula gets a leading ' so it stays text. */
export function csvCell(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return `"${safe.replaceAll('"', '""')}"`;
}

/** One CSV record with its CRLF (RFC 4180). */
export function csvLine(cells: readonly (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A row's cells in the export's column order (AUDIT_CSV_COLUMNS). */
export function auditCsvCells(row: AuditEvent): (string | number | null)[] {
  return [
    row.id,
    taipeiTimestamp(row.occurredAt),
    row.actorType,
    row.actorId ?? null,
    row.action,
    row.subject ?? null,
    row.outcome,
    row.clientAddress ?? null,
    row.detail ? JSON.stringify(row.detail) : null,
  ];
}

/** The export's columns, for the header row's labels (one per cell of auditCsvCells). */
export const AUDIT_CSV_COLUMNS = ['id', 'time', 'actorType', 'actorId', 'action', 'subject', 'outcome', 'clientAddress', 'detail'] as const;

/** Makes Excel on a Traditional Chinese Windows read the file as UTF-8 rather than Big5. */
export const UTF8_BOM = '\uFEFF';

export interface CsvExport {
  rows: number;
  /** More rows matched than `limit`: the file says so in its last line. */
  capped: boolean;
  /** The sink stopped taking text (the download was abandoned). */
  stopped: boolean;
}

/**
 * Writes the BOM, the header, every matching row (up to `limit`) and, when capped, `cappedNote` as a last line,
 * to `write`, batch by batch. `write` resolves false to stop (the client went away).
 */
export async function writeAuditCsv(
  em: EntityManager,
  filter: AuditFilter,
  write: (text: string) => Promise<boolean>,
  options: { header: readonly string[]; limit: number; cappedNote: string; batchSize?: number },
): Promise<CsvExport> {
  let rows = 0;
  if (!(await write(UTF8_BOM + csvLine(options.header)))) return { rows, capped: false, stopped: true };
  for await (const batch of auditBatches(em, filter, options.batchSize ?? 1000)) {
    if (rows >= options.limit) {
      await write(csvLine([options.cappedNote]));
      return { rows, capped: true, stopped: false };
    }
    const taken = batch.slice(0, options.limit - rows);
    rows += taken.length;
    if (!(await write(taken.map((row) => csvLine(auditCsvCells(row))).join('')))) return { rows, capped: false, stopped: true };
    if (taken.length < batch.length) {
      await write(csvLine([options.cappedNote]));
      return { rows, capped: true, stopped: false };
    }
  }
  return { rows, capped: false, stopped: false };
}
