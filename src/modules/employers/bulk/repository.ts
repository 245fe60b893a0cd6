import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { BulkUploadRowSchema, BulkUploadSchema, type BulkRowResult, type BulkUpload, type BulkUploadRow } from '../entities/bulk-upload.js';

const sql = (em: EntityManager) => em as SqlEntityManager;

/** Uploads and their rows' results. A batch's rows and the checkpoint move in one statement each, in one transaction. */
export const bulkUploads = {
  insert(em: EntityManager, row: BulkUpload): void {
    em.create(BulkUploadSchema, row);
  },

  find(em: EntityManager, id: string): Promise<BulkUpload | null> {
    return em.findOne(BulkUploadSchema, { id }, { disableIdentityMap: true });
  },

  /** A unit's uploads, newest first; of one clerk only when `clerkIdNumber` is given. */
  list(em: EntityManager, unitCode: string, clerkIdNumber: string | undefined, limit: number): Promise<BulkUpload[]> {
    return em.find(BulkUploadSchema, { unitCode, ...(clerkIdNumber ? { clerkIdNumber } : {}) }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit, disableIdentityMap: true });
  },

  async start(em: EntityManager, id: string, at: Date): Promise<void> {
    await em.nativeUpdate(BulkUploadSchema, { id, status: 'queued' }, { status: 'processing', startedAt: at });
  },

  /** The rows of one batch with their results, and the counts they add, in the caller's transaction. */
  async saveBatch(em: EntityManager, id: string, rows: BulkUploadRow[]): Promise<void> {
    // One statement for the batch: the rows travel as one JSON array (an array parameter would be spread into a list).
    await sql(em).execute(
      `insert into bulk_upload_row (upload_id, line, id_number, name, birth_date, email, mobile, result, reason)
       select ?::uuid, r.line, r.id_number, r.name, r.birth_date, r.email, r.mobile, r.result, r.reason
       from json_to_recordset(?::json) as r(line int, id_number text, name text, birth_date text, email text, mobile text, result text, reason text)`,
      [id, JSON.stringify(rows.map((row) => ({ line: row.line, id_number: row.idNumber, name: row.name, birth_date: row.birthDate, email: row.email, mobile: row.mobile, result: row.result, reason: row.reason })))],
    );
    const accepted = rows.filter((row) => row.result === 'accepted').length;
    await sql(em).execute(
      `update bulk_upload set processed_rows = processed_rows + ?, accepted = accepted + ?, rejected = rejected + ? where id = ?`,
      [rows.length, accepted, rows.length - accepted, id],
    );
  },

  /** Where a resumed job goes on: after the last line whose result was kept. */
  async lastLine(em: EntityManager, id: string): Promise<number> {
    const [row] = await sql(em).execute<{ line: number | null }[]>('select max(line) as line from bulk_upload_row where upload_id = ?', [id]);
    return row?.line ?? 0;
  },

  /** The ID numbers of rows already done (a resumed job's duplicates are checked against them). */
  async seenIds(em: EntityManager, id: string): Promise<Set<string>> {
    const rows = await sql(em).execute<{ id_number: string }[]>('select upper(trim(id_number)) as id_number from bulk_upload_row where upload_id = ?', [id]);
    return new Set(rows.map((row) => row.id_number));
  },

  /** Uploads finished before `before` (their rows go with them, in the caller's transaction); their stored names. */
  async deleteFinishedBefore(em: EntityManager, before: Date): Promise<string[]> {
    const gone = await sql(em).execute<{ id: string; stored_name: string }[]>(
      `delete from bulk_upload where status in ('done', 'failed') and finished_at < ? returning id, stored_name`,
      [before],
    );
    if (gone.length) await em.nativeDelete(BulkUploadRowSchema, { uploadId: { $in: gone.map((row) => row.id) } });
    return gone.map((row) => row.stored_name);
  },

  async finish(em: EntityManager, id: string, at: Date, failure?: string): Promise<boolean> {
    return (await em.nativeUpdate(BulkUploadSchema, { id, status: { $in: ['queued', 'processing'] } }, { status: failure ? 'failed' : 'done', finishedAt: at, failure: failure ?? null })) === 1;
  },

  /** The rows after `afterLine` in line order, as plain rows (the result file reads every row of a large upload). */
  async rowsAfter(em: EntityManager, id: string, afterLine: number, limit: number): Promise<BulkUploadRow[]> {
    const rows = await sql(em).execute<{ line: number; id_number: string; name: string; birth_date: string; email: string; mobile: string; result: BulkRowResult; reason: string | null }[]>(
      'select line, id_number, name, birth_date, email, mobile, result, reason from bulk_upload_row where upload_id = ? and line > ? order by line limit ?',
      [id, afterLine, limit],
    );
    return rows.map((row) => ({ uploadId: id, line: row.line, idNumber: row.id_number, name: row.name, birthDate: row.birth_date, email: row.email, mobile: row.mobile, result: row.result, reason: row.reason }));
  },

  /** One page of an upload's rows in line order, of one result when given. */
  rows(em: EntityManager, id: string, filter: { result?: BulkRowResult; afterLine?: number; limit: number }): Promise<BulkUploadRow[]> {
    return em.find(
      BulkUploadRowSchema,
      { uploadId: id, ...(filter.result ? { result: filter.result } : {}), ...(filter.afterLine ? { line: { $gt: filter.afterLine } } : {}) },
      { orderBy: { line: 'asc' }, limit: filter.limit, disableIdentityMap: true },
    );
  },
};
