/**
 * Imports one registry CSV file all-or-nothing, at COPY speed and in constant memory:
 * file → csv-parse → row checks → COPY into a temporary staging table → key and reference checks in SQL →
 * one INSERT … ON CONFLICT DO UPDATE into the registry table, all inside one transaction.
 */
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One column of a registry file: the CSV header name is also the column name in the table. */
export interface RegistryColumn {
  name: string;
  /** SQL type of the column in the staging table (the registry table's type). */
  type: string;
}

/** A value for the staging table (null = SQL NULL), or, as a string, the reason the row is rejected. */
export type RowCheck = (fields: string[]) => (string | null)[] | string;

export interface RegistryFileSpec {
  /** File name inside the import folder, e.g. `persons.csv`. */
  file: string;
  /** Registry table the rows are merged into. */
  table: string;
  /** The header, in order; the row check returns one value per column in the same order. */
  columns: readonly RegistryColumn[];
  /** The natural key: at most one row per key in a file; existing rows with the key are updated. */
  key: readonly string[];
  /** Builds the row check (it may first load small reference data, e.g. the village codes). */
  prepare(ctx: { client: pg.ClientBase; today: string }): Promise<RowCheck>;
  /** Checks across tables, run in SQL on the staging table (`$stage`): each returns the offending `line`s. */
  references?: readonly { sql: string; reason: string }[];
}

export interface FileReport {
  file: string;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  ms: number;
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

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Checks each parsed record and turns valid ones into COPY text lines, failing at the first bad row. */
class RowsToCopy extends Transform {
  rows = 0;
  private seenHeader = false;
  private pending = '';

  constructor(private readonly spec: RegistryFileSpec, private readonly check: RowCheck) {
    super({ writableObjectMode: true, readableObjectMode: false });
  }

  override _transform(chunk: { record: string[]; info: { lines: number } }, _enc: BufferEncoding, done: TransformCallback): void {
    const { record, info } = chunk;
    const columns = this.spec.columns;
    if (!this.seenHeader) {
      this.seenHeader = true;
      const expected = columns.map((c) => c.name);
      if (record.length !== expected.length || record.some((name, i) => name !== expected[i]))
        return done(new RejectedRow(info.lines, `the header must be "${expected.join(',')}" (found "${record.join(',')}")`));
      return done();
    }
    if (record.length !== columns.length)
      return done(new RejectedRow(info.lines, `expected ${columns.length} fields, found ${record.length}`));
    const values = this.check(record);
    if (typeof values === 'string') return done(new RejectedRow(info.lines, values));
    this.rows++;
    // COPY text format: tab-separated, \N for NULL. Checked values hold no control characters, so only the
    // backslash needs escaping.
    let text = String(info.lines);
    for (const v of values) text += v === null ? '\t\\N' : `\t${v.includes('\\') ? v.replaceAll('\\', '\\\\') : v}`;
    this.pending += `${text}\n`;
    if (this.pending.length >= COPY_CHUNK_CHARS) {
      this.push(this.pending);
      this.pending = '';
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.seenHeader) return done(new RejectedRow(1, `the file is empty (expected the header "${this.spec.columns.map((c) => c.name).join(',')}")`));
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
  const stage = quoteIdent(`stage_${spec.table}`);
  const names = spec.columns.map((c) => quoteIdent(c.name));
  const key = spec.key.map(quoteIdent);
  const nonKey = spec.columns.map((c) => c.name).filter((n) => !spec.key.includes(n)).map(quoteIdent);

  await client.query('begin');
  try {
    await client.query(
      `create temp table ${stage} (line integer not null, ${spec.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')}) on commit drop`,
    );
    const check = await spec.prepare({ client, today: options.today });
    const rows = new RowsToCopy(spec, check);
    const copy = client.query(copyFrom(`copy ${stage} (line, ${names.join(', ')}) from stdin`));
    try {
      await pipeline(
        createReadStream(path),
        parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_RECORD_CHARS }),
        rows,
        copy,
      );
    } catch (err) {
      if (err instanceof CsvError) throw new RejectedRow(Number(err.lines) || 1, `malformed CSV: ${err.message}`);
      throw err;
    }

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
    await client.query(`analyze ${stage}`);

    for (const ref of spec.references ?? []) {
      const bad = await client.query<{ line: number }>(`${ref.sql.replaceAll('$stage', stage)} order by line limit 1`);
      if (bad.rows[0]) throw new RejectedRow(bad.rows[0].line, ref.reason);
    }

    // Rows equal to what is stored are left alone (a re-import writes nothing); xmax = 0 marks inserted rows.
    const merged = await client.query<{ inserted: number; updated: number }>(
      `with merged as (
         insert into ${quoteIdent(spec.table)} as t (${names.join(', ')})
         select ${names.join(', ')} from ${stage} order by ${key.join(', ')}
         on conflict (${key.join(', ')}) do update set ${nonKey.map((n) => `${n} = excluded.${n}`).join(', ')}
         where (${nonKey.map((n) => `t.${n}`).join(', ')}) is distinct from (${nonKey.map((n) => `excluded.${n}`).join(', ')})
         returning (xmax = 0) as inserted
       )
       select (count(*) filter (where inserted))::int as inserted, (count(*) filter (where not inserted))::int as updated from merged`,
    );
    await client.query('commit');
    const { inserted, updated } = merged.rows[0]!;
    return { file: spec.file, read: rows.rows, inserted, updated, unchanged: rows.rows - inserted - updated, ms: performance.now() - started };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}
