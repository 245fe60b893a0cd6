import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditLog } from '../../../platform/audit/index.js';
import type { Clock } from '../../../platform/clock.js';
import type { Orm } from '../../../platform/db/index.js';
import type { I18n, Locale } from '../../../platform/i18n/index.js';
import type { Jobs } from '../../../platform/jobs/index.js';
import type { Mailer } from '../../../platform/mail/index.js';
import type { CardRegistry } from '../../cards/index.js';
import type { HouseholdRegistry } from '../../household/index.js';
import type { RegistrationService } from '../../registration/index.js';
import type { EnrollmentRegistry } from '../enrollments.js';
import type { BulkRowResult, BulkUpload, BulkUploadRow } from '../entities/bulk-upload.js';
import { checkRow, lookupIds, type BatchFacts, type Candidate } from './checks.js';
import { BulkFileError, inspectBulkFile, readBulkRows, writeResultFile, type BulkRow, type FileInfo, type FileProblem } from './file.js';
import { bulkUploads } from './repository.js';

export const BULK_UPLOAD_TASK = 'bulk-upload';
/** Rows per transaction: their results, registrations, links and mails commit together, or not at all. */
const BATCH_ROWS = 2000;
/** The mail's attachment limit (base64 characters); a larger result file is downloaded from the upload log instead. */
const ATTACHMENT_MAX_CHARS = 4_500_000;

export interface Clerk {
  idNumber: string;
  name: string;
  email: string;
}

export type AcceptResult = { ok: true; id: string } | { ok: false; problem: FileProblem };

export interface BulkUploadDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  mail: Mailer;
  jobs: Jobs;
  i18n: I18n;
  log: (msg: string) => void;
  dataDir: string;
  maxRows: number;
  registration: RegistrationService;
  household: HouseholdRegistry;
  cards: CardRegistry;
  enrollments: EnrollmentRegistry;
}

/** 健保卡註冊申請整批資料上傳: a file taken in, processed by a background job in batches, and its results. */
export class BulkUploads {
  readonly dir: string;

  constructor(private readonly deps: BulkUploadDeps) {
    this.dir = join(deps.dataDir, 'uploads');
  }

  private get em(): EntityManager {
    return this.deps.orm.em.fork();
  }

  /** A new, unused path for a received file (a generated name: never the client's). */
  newFilePath(): { storedName: string; path: string } {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const storedName = randomUUID();
    return { storedName, path: join(this.dir, storedName) };
  }

  /**
   * A received file: checked whole (type by content, encoding, header, row count) before anything is saved; then the
   * upload and its job in one transaction. A refused file is deleted.
   */
  async accept(input: { unitCode: string; clerk: Clerk; fileName: string; storedName: string; locale: Locale; clientAddress: string }): Promise<AcceptResult> {
    const path = join(this.dir, input.storedName);
    const info = await inspectBulkFile(path, { maxRows: this.deps.maxRows });
    if ('problem' in info) {
      rmSync(path, { force: true });
      await this.deps.audit.recordNow(this.em, this.entry(input, 'employer.bulk_upload', 'refused', { reason: info.problem }));
      return { ok: false, problem: info };
    }
    const id = randomUUID();
    const now = this.deps.clock.now();
    await this.em.transactional(async (em) => {
      bulkUploads.insert(em, {
        id,
        unitCode: input.unitCode,
        clerkIdNumber: input.clerk.idNumber,
        clerkName: input.clerk.name.slice(0, 100),
        clerkEmail: input.clerk.email,
        fileName: input.fileName.slice(0, 255) || 'upload',
        storedName: input.storedName,
        format: info.format,
        encoding: info.encoding,
        size: statSync(path).size,
        status: 'queued',
        totalRows: info.rows,
        processedRows: 0,
        accepted: 0,
        rejected: 0,
        locale: input.locale,
        createdAt: now,
        startedAt: null,
        finishedAt: null,
        failure: null,
      });
      await em.flush();
      await this.deps.jobs.add(em, BULK_UPLOAD_TASK, { uploadId: id }, { jobKey: `bulk-upload:${id}` });
      this.deps.audit.record(em, this.entry(input, 'employer.bulk_upload', 'success', { upload: id, rows: info.rows }));
    });
    return { ok: true, id };
  }

  /**
   * The job: every row not yet done, in batches. A batch's results, registrations, links and mails and the checkpoint
   * commit together, so a process killed mid-job leaves whole batches; the next run goes on after the last one.
   */
  async process(uploadId: string, beat: () => Promise<void> = async () => {}): Promise<void> {
    let upload = await bulkUploads.find(this.em, uploadId);
    if (!upload || upload.status === 'done' || upload.status === 'failed') return;
    if (upload.status === 'queued') await bulkUploads.start(this.em, uploadId, this.deps.clock.now());
    const path = join(this.dir, upload.storedName);
    const info = await inspectBulkFile(path, { maxRows: Number.MAX_SAFE_INTEGER });
    if ('problem' in info) return this.fail(upload, `file_${info.problem}`);
    const seen = await bulkUploads.seenIds(this.em, uploadId);
    const fromLine = (await bulkUploads.lastLine(this.em, uploadId)) + 1;
    let batch: BulkRow[] = [];
    try {
      for await (const row of readBulkRows(path, info, { fromLine })) {
        batch.push(row);
        if (batch.length < BATCH_ROWS) continue;
        await this.processBatch(upload, batch, seen);
        await beat();
        batch = [];
      }
    } catch (err) {
      // The file no longer reads as it did when it was taken in: retrying cannot help, the upload has failed.
      if (err instanceof BulkFileError) return this.fail(upload, `file_${err.problem.problem}`);
      throw err;
    }
    if (batch.length) await this.processBatch(upload, batch, seen);
    upload = (await bulkUploads.find(this.em, uploadId))!;
    await this.finish(upload, info);
  }

  private async processBatch(upload: BulkUpload, rows: BulkRow[], seen: Set<string>): Promise<void> {
    const ids = lookupIds(rows);
    const [insured, persons, cards] = await Promise.all([
      this.deps.enrollments.insuredAmong(upload.unitCode, ids),
      this.deps.household.findPersons(ids),
      this.deps.cards.newestValidCards(ids),
    ]);
    await this.em.transactional(async (em) => {
      const facts: BatchFacts = { insured, persons, cards, states: await this.deps.registration.accountStates(em, ids) };
      // The checks see the file's earlier rows; this batch's join them only once it commits (a retry starts over).
      const batchSeen = new Set<string>();
      const seenSoFar = { has: (id: string) => seen.has(id) || batchSeen.has(id), add: (id: string) => batchSeen.add(id) };
      const outcomes = rows.map((row) => ({ row, outcome: checkRow(row, facts, seenSoFar) }));
      const candidates = outcomes.flatMap(({ outcome }) => (typeof outcome === 'string' ? [] : [outcome]));
      const registered = candidates.length
        ? await this.deps.registration.registerForEmployer(em, { unitCode: upload.unitCode, uploadId: upload.id, locale: upload.locale === 'en' ? 'en' : 'zh-TW', people: candidates })
        : new Set<string>();
      await bulkUploads.saveBatch(em, upload.id, outcomes.map(({ row, outcome }) => resultRow(upload.id, row, outcome, registered)));
      for (const id of batchSeen) seen.add(id);
    });
  }

  private async finish(upload: BulkUpload, info: FileInfo): Promise<void> {
    const resultPath = this.resultPath(upload);
    const t = this.deps.i18n.translator(info.headerLanguage === 'en' ? 'en' : 'zh-TW');
    await writeResultFile(resultPath, info, this.resultRows(upload.id, t));
    // Read only when it will be attached (base64 is 4/3 of the bytes); a larger one is downloaded from the upload log.
    const attached = Math.ceil(statSync(resultPath).size / 3) * 4 <= ATTACHMENT_MAX_CHARS;
    const content = attached ? readFileSync(resultPath).toString('base64') : '';
    await this.em.transactional(async (em) => {
      if (!(await bulkUploads.finish(em, upload.id, this.deps.clock.now()))) return;
      await this.deps.mail.enqueue(em, {
        template: 'bulk-upload-result',
        locale: upload.locale === 'en' ? 'en' : 'zh-TW',
        to: upload.clerkEmail,
        data: {
          clerkName: upload.clerkName,
          unitCode: upload.unitCode,
          fileName: upload.fileName,
          uploadedAt: upload.createdAt,
          total: upload.totalRows,
          accepted: upload.accepted,
          rejected: upload.rejected,
          linkPath: `/employer/uploads/${upload.id}`,
          attached,
        },
        idempotencyKey: `bulk-upload-result:${upload.id}`,
        attachments: attached ? [{ name: this.resultName(upload), content, contentType: resultContentType(upload), encoding: 'base64' }] : [],
      });
      this.deps.audit.record(em, {
        actorType: 'system',
        action: 'employer.bulk_upload_done',
        subject: `upload:${upload.id}`,
        outcome: 'success',
        detail: { unit: upload.unitCode, total: upload.totalRows, accepted: upload.accepted, rejected: upload.rejected, attached },
      });
    });
  }

  private async fail(upload: BulkUpload, failure: string): Promise<void> {
    await this.em.transactional(async (em) => {
      await bulkUploads.finish(em, upload.id, this.deps.clock.now(), failure);
      this.deps.audit.record(em, { actorType: 'system', action: 'employer.bulk_upload_done', subject: `upload:${upload.id}`, outcome: 'failure', detail: { reason: failure } });
    });
  }

  /** Every row with its 結果 and 原因 in the file's language, streamed from the table in line order. */
  private async *resultRows(uploadId: string, t: (key: string) => string): AsyncIterable<BulkRow & { result: string; reason: string }> {
    let afterLine = 0;
    for (;;) {
      const page = await bulkUploads.rowsAfter(this.em, uploadId, afterLine, 5000);
      if (!page.length) return;
      for (const row of page) {
        yield { ...row, result: t(`employers.result.${row.result}`), reason: row.reason ? t(`employers.reason.${row.reason}`) : '' };
      }
      afterLine = page[page.length - 1]!.line;
    }
  }

  /**
   * The daily housekeeping: uploads finished more than `keepMs` ago go, with their rows (which hold what the file
   * held: ID numbers, e-mail addresses) and their files. The audit rows of the upload stay.
   */
  async deleteOld(keepMs: number): Promise<number> {
    const storedNames = await this.em.transactional((em) => bulkUploads.deleteFinishedBefore(em, new Date(this.deps.clock.now().getTime() - keepMs)));
    for (const storedName of storedNames) {
      rmSync(join(this.dir, storedName), { force: true });
      rmSync(this.resultPath({ storedName }), { force: true });
    }
    return storedNames.length;
  }

  resultPath(upload: Pick<BulkUpload, 'storedName'>): string {
    return join(this.dir, `${upload.storedName}.result`);
  }

  /** The result file's download name: the client's name with 結果 and the format's extension. */
  resultName(upload: Pick<BulkUpload, 'fileName' | 'format'>): string {
    const base = upload.fileName.replace(/\.[^.]*$/, '') || 'upload';
    return `${base}-result.${upload.format}`;
  }

  find(id: string): Promise<BulkUpload | null> {
    return bulkUploads.find(this.em, id);
  }

  list(unitCode: string, clerkIdNumber?: string): Promise<BulkUpload[]> {
    return bulkUploads.list(this.em, unitCode, clerkIdNumber, 200);
  }

  rows(id: string, filter: { result?: BulkRowResult; afterLine?: number; limit: number }): Promise<BulkUploadRow[]> {
    return bulkUploads.rows(this.em, id, filter);
  }

  private entry(input: { unitCode: string; clerk: Clerk; fileName: string; clientAddress: string }, action: string, outcome: 'success' | 'refused', detail: Record<string, string | number>) {
    return {
      actorType: 'employer' as const,
      actorId: maskIdNumber(input.clerk.idNumber),
      action,
      subject: `unit:${input.unitCode}`,
      outcome,
      clientAddress: input.clientAddress,
      detail: { file: input.fileName, ...detail },
    };
  }
}

function resultRow(uploadId: string, row: BulkRow, outcome: string | Candidate, registered: ReadonlySet<string>): BulkUploadRow {
  // A person registered by someone else between the checks and the insert is as good as registered.
  const reason = typeof outcome === 'string' ? outcome : registered.has(outcome.idNumber) ? null : 'registered';
  return {
    uploadId,
    line: row.line,
    idNumber: row.idNumber.slice(0, 20),
    name: row.name.slice(0, 100),
    birthDate: row.birthDate.slice(0, 20),
    email: row.email.slice(0, 254),
    mobile: row.mobile.slice(0, 20),
    result: reason ? 'rejected' : 'accepted',
    reason,
  };
}

function resultContentType(upload: Pick<BulkUpload, 'format' | 'encoding'>): string {
  if (upload.format === 'xlsx') return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  return `text/csv; charset=${upload.encoding === 'big5' ? 'big5' : 'utf-8'}`;
}

export { resultContentType };
