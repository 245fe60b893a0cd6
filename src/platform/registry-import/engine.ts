/**
 * Imports one registry CSV file all-or-nothing, streaming, in constant memory:
 * file → csv-parse → row checks → COPY into a temporary staging table → key and reference checks in SQL →
 * UPDATE of the changed rows and INSERT of the new ones, all inside one transaction. The first bad row stops
 * the stream (the COPY is aborted) and rolls the transaction back.
 */
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value for the staging table (null = SQL NULL), or, as a string, the reason the row is rejected. */
export type RowCheck = (fields: string[]) => (string | null)[] | string;

export interface RegistryFileSpec {
  /** File name inside the import folder, e.g. `persons.csv`. */
  file: string;
  /** Registry table the rows are merged into. */
  table: string;
  /**
   * The header, in order: each a column of the table (the staging table takes the table's own types, so the two
   * cannot drift); the row check returns one value per column in the same order.
   */
  columns: readonly string[];
  /** The natural key: at most one row per key in a file; existing rows with the key are updated. */
  key: readonly string[];
  /** Builds the row check (it may first load small reference data, e.g. the village codes). */
  prepare(ctx: { client: pg.ClientBase; today: string }): Promise<RowCheck>;
  /** Checks across tables, run in SQL on the staging table (`$stage`): each returns the offending `line`s. */
  references?: readonly { sql: string; reason: string }[];
  /** Tables the references read: held still (SHARE lock, readers unaffected) until the file is committed. */
  referencedTables?: readonly string[];
}

export interface FileReport {
  file: string;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  ms: number;
  /** Where the time went (ms): streaming and COPY, the key check, the reference checks, the merge and commit. */
  phases: { copy: number; keys: number; references: number; merge: number };
}

/** One line of the import log for a file. */
export function formatReport(r: FileReport): string {
  return `${r.file}: ${r.read} rows read, ${r.inserted} inserted, ${r.updated} updated, ${r.unchanged} unchanged (${(r.ms / 1000).toFixed(2)} s)`;
}

/** A bad row: the file is rejected whole. `line` counts the header as line 1. */
export class RejectedRow extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = 'RejectedRow';
  }
}

/** Generous for any valid row (~200 bytes) yet bounds memory on a runaway quoted field. */
const MAX_RECORD_CHARS = 64 * 1024;
/** COPY data is sent in chunks of about this many characters. */
const COPY_CHUNK_CHARS = 64 * 1024;
const STREAM_AHEAD_BYTES = 1024 * 1024;
/** RFC 4180 with an optional BOM; column counts are checked per row (clearer reasons); up to 1,024 records parsed ahead. */
const CSV_OPTIONS = { bom: true, relax_column_count: true, max_record_size: MAX_RECORD_CHARS, highWaterMark: 1024 };

const LINE_BREAK = /[\r\n]/;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The header row must name exactly the expected columns, in order. */
export function headerError(found: readonly string[], expected: readonly string[]): string | undefined {
  if (found.length === expected.length && found.every((name, i) => name === expected[i])) return undefined;
  return `the header must be "${expected.join(',')}" (found "${found.join(',')}")`;
}

/**
 * Checks each parsed record and turns valid ones into COPY text lines, failing at the first bad row.
 *
 * Line numbers are counted here rather than taken from csv-parse's `info` option, which copies an object per
 * record and costs as much as the parsing itself: every record that reaches the check is one line (a field
 * holding a line break is refused before the check), and an empty line arrives as the record `[""]`.
 */
class RowsToCopy extends Transform {
  rows = 0;
  private line = 0;
  private pending = '';

  constructor(private readonly spec: RegistryFileSpec, private readonly check: RowCheck) {
    // Room to work ahead while PostgreSQL takes the previous chunks (bounded: about 1 MB of COPY text).
    super({ writableObjectMode: true, readableObjectMode: false, writableHighWaterMark: 1024, readableHighWaterMark: STREAM_AHEAD_BYTES });
  }

  override _transform(record: string[], _enc: BufferEncoding, done: TransformCallback): void {
    const line = ++this.line;
    const columns = this.spec.columns;
    if (line === 1) {
      const why = headerError(record, columns);
      return done(why ? new RejectedRow(line, why) : undefined);
    }
    if (record.length === 1 && record[0] === '') return done(); // an empty line
    if (record.length !== columns.length) return done(new RejectedRow(line, `expected ${columns.length} fields, found ${record.length}`));
    for (let i = 0; i < record.length; i++) {
      if (LINE_BREAK.test(record[i]!)) return done(new RejectedRow(line, `${columns[i]}: contains a line break`));
    }
    const values = this.check(record);
    if (typeof values === 'string') return done(new RejectedRow(line, values));
    this.rows++;
    // COPY text format: tab-separated, \N for NULL. Checked values hold no control characters, so only the
    // backslash needs escaping.
    let text = String(line);
    for (const v of values) text += v === null ? '\t\\N' : `\t${v.includes('\\') ? v.replaceAll('\\', '\\\\') : v}`;
    this.pending += `${text}\n`;
    if (this.pending.length >= COPY_CHUNK_CHARS) {
      this.push(this.pending);
      this.pending = '';
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.line === 0) return done(new RejectedRow(1, `the file is empty (expected the header "${this.spec.columns.join(',')}")`));
    if (this.pending) this.push(this.pending);
    done();
  }
}

/**
 * Imports `path` per `spec` on `client` (which must not be inside a transaction). Resolves with the counts,
 * or rejects with RejectedRow (nothing of the file applied) or a database error.
 */
export async function importRegistryFile(client: pg.ClientBase, spec: RegistryFileSpec, path: string, options: { today: string }): Promise<FileReport> {
  const started = performance.now();
  let mark = started;
  const lap = () => {
    const t = performance.now();
    const ms = t - mark;
    mark = t;
    return ms;
  };
  const stage = quoteIdent(`stage_${spec.table}`);
  const names = spec.columns.map(quoteIdent);
  const key = spec.key.map(quoteIdent);
  const nonKey = spec.columns.filter((n) => !spec.key.includes(n)).map(quoteIdent);

  await client.query('begin');
  try {
    // One import at a time per table; readers go on reading the committed rows meanwhile.
    await client.query(`lock table ${quoteIdent(spec.table)} in share row exclusive mode`);
    for (const table of spec.referencedTables ?? []) await client.query(`lock table ${quoteIdent(table)} in share mode`);
    await client.query(
      `create temp table ${stage} on commit drop as select 0 as line, ${names.join(', ')} from ${quoteIdent(spec.table)} with no data`,
    );
    const check = await spec.prepare({ client, today: options.today });
    const rows = new RowsToCopy(spec, check);
    const copy = client.query(copyFrom(`copy ${stage} (line, ${names.join(', ')}) from stdin`, { highWaterMark: STREAM_AHEAD_BYTES }));
    try {
      await pipeline(
        createReadStream(path, { highWaterMark: 256 * 1024 }),
        parse(CSV_OPTIONS),
        rows,
        copy,
      );
    } catch (err) {
      if (err instanceof CsvError) throw new RejectedRow(Number(err.lines) || 1, `malformed CSV: ${err.message}`);
      throw err;
    }
    const copyMs = lap();

    // A key twice in the file: building a unique index finds it cheaply; only then look for the first one.
    await client.query('savepoint unique_keys');
    try {
      await client.query(`create unique index on ${stage} (${key.join(', ')})`);
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      await client.query('rollback to savepoint unique_keys');
      const dup = await client.query<{ line: number; first: number }>(
        `select line, first from (select line, min(line) over (partition by ${key.join(', ')}) as first from ${stage}) s
         where line > first order by line limit 1`,
      );
      const d = dup.rows[0]!;
      throw new RejectedRow(d.line, `duplicate ${spec.key.join(' + ')} (first at line ${d.first})`);
    }
    const keysMs = lap();

    for (const ref of spec.references ?? []) {
      const bad = await client.query<{ line: number }>(`${ref.sql.replaceAll('$stage', stage)} order by line limit 1`);
      if (bad.rows[0]) throw new RejectedRow(bad.rows[0].line, ref.reason);
    }
    const referencesMs = lap();

    // Rows equal to what is stored are left alone, so a re-import writes nothing. Two set-wise statements
    // (the table is locked against other writers) cost about half of a row-by-row INSERT … ON CONFLICT.
    const table = quoteIdent(spec.table);
    const sameKey = key.map((k) => `t.${k} = s.${k}`).join(' and ');
    const updated = await client.query(
      `update ${table} t set ${nonKey.map((n) => `${n} = s.${n}`).join(', ')} from ${stage} s
       where ${sameKey} and (${nonKey.map((n) => `t.${n}`).join(', ')}) is distinct from (${nonKey.map((n) => `s.${n}`).join(', ')})`,
    );
    // In key order, so that the table's primary key index is filled from left to right.
    const inserted = await client.query(
      `insert into ${table} (${names.join(', ')}) select ${names.join(', ')} from ${stage} s
       where not exists (select 1 from ${table} t where ${sameKey}) order by ${key.join(', ')}`,
    );
    await client.query('commit');
    const phases = { copy: copyMs, keys: keysMs, references: referencesMs, merge: lap() };
    const counts = { inserted: inserted.rowCount ?? 0, updated: updated.rowCount ?? 0 };
    return { file: spec.file, read: rows.rows, ...counts, unchanged: rows.rows - counts.inserted - counts.updated, ms: performance.now() - started, phases };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}
