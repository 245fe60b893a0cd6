/**
 * Imports one registry CSV file all-or-nothing, in one transaction and constant memory:
 * file → COPY into an unlogged staging table of text columns → the field rules in SQL (one parallel pass) →
 * references to other tables → INSERT … ON CONFLICT … WHERE … IS DISTINCT FROM in key order, which also finds a key
 * given twice. A bad row rolls the transaction back, so a file with one bad row changes nothing.
 *
 * PostgreSQL's CSV reader is more lenient than RFC 4180 (a quote inside a field, an empty line, a stray `\.`), so
 * a file is sent to COPY as it is only when it holds no quote character and COPY takes exactly one row per line;
 * any other file is parsed by csv-parse, which says what is malformed and where, and is staged from what it read.
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { Transform, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface RegistryFileSpec {
  /** File name inside the import folder, e.g. `persons.csv`. */
  file: string;
  /** Registry table the rows are merged into. */
  table: string;
  /** The header, in order: each a column of the table. */
  columns: readonly string[];
  /** The natural key: at most one row per key in a file; existing rows with the key are updated. */
  key: readonly string[];
  /**
   * The field rules, in the order they are applied: per column, SQL that is the reason the staged text `s.<column>`
   * is wrong, or null. `$today` is today's Taipei date as text. The first reason of a row is reported as
   * `<column>: <reason>`.
   */
  checks: readonly (readonly [column: string, reasonSql: string])[];
  /** Tables the checks read, joined to the staging table `s` (e.g. `left join village v on v.code = s.village_code`). */
  joins?: string;
  /** Per column, SQL turning the checked text into the stored value; by default the text cast to the column's type. */
  values?: Readonly<Record<string, string>>;
  /** Checks across tables: a row of the staging table `s` is rejected for `reason` when `where` holds. */
  references?: readonly { where: string; reason: string }[];
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
  /** Where the time went (ms): the COPY, the field rules, the reference checks, the merge (with the key check) and commit. */
  phases: { copy: number; checks: number; references: number; merge: number };
  /** True when the file went to COPY as it is; false when csv-parse read it first. */
  direct: boolean;
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
const NEWLINE = 0x0a;
const QUOTE = 0x22;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The header row must name exactly the expected columns, in order. */
export function headerError(found: readonly string[], expected: readonly string[]): string | undefined {
  if (found.length === expected.length && found.every((name, i) => name === expected[i])) return undefined;
  return `the header must be "${expected.join(',')}" (found "${found.join(',')}")`;
}

/** The file's records as csv-parse reads them (RFC 4180, BOM dropped); the reading stops when the loop does. */
function records(path: string): AsyncIterable<string[]> {
  const parser = parse(CSV_OPTIONS);
  // A loop that stops early destroys the parser, which this pipeline then reports: that is no failure.
  pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), parser).catch(() => {});
  return parser;
}

/** Reads records, turning csv-parse's complaint into a rejection at its line. */
async function* recordsOrRejection(path: string): AsyncGenerator<string[]> {
  try {
    yield* records(path);
  } catch (err) {
    if (err instanceof CsvError) throw new RejectedRow(Number(err.lines) || 1, `malformed CSV: ${err.message}`);
    throw err;
  }
}

/** The first record of the file, parsed as the rest will be; rejects an empty file and a wrong header. */
async function checkHeader(spec: RegistryFileSpec, path: string): Promise<void> {
  for await (const header of recordsOrRejection(path)) {
    const why = headerError(header, spec.columns);
    if (why) throw new RejectedRow(1, why);
    return;
  }
  throw new RejectedRow(1, `the file is empty (expected the header "${spec.columns.join(',')}")`);
}

/** Counts the lines going by and notes a quote character, without changing a byte. */
class LineCounter extends Transform {
  newlines = 0;
  lastByte = NEWLINE;
  quoted = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) this.newlines++;
    if (!this.quoted && chunk.includes(QUOTE)) this.quoted = true;
    if (chunk.length) this.lastByte = chunk[chunk.length - 1]!;
    done(null, chunk);
  }

  /** Lines in the file, the last one counted whether or not it ends with a line break. */
  get lines(): number {
    return this.newlines + (this.lastByte === NEWLINE ? 0 : 1);
  }
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\x01' };
const escapeForCopy = (char: string) => COPY_ESCAPES[char]!;

/**
 * Imports `path` per `spec` on `client` (which must not be inside a transaction). Resolves with the counts,
 * or rejects with RejectedRow (nothing of the file applied) or a database error.
 */
export async function importRegistryFile(client: pg.ClientBase, spec: RegistryFileSpec, path: string, options: { today: string }): Promise<FileReport> {
  const started = performance.now();
  let mark = started;
  const lap = () => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  const table = quoteIdent(spec.table);
  const stage = quoteIdent(`registry_stage_${spec.table}`);
  const names = spec.columns.map(quoteIdent);
  const key = spec.key.map(quoteIdent);
  const nonKey = spec.columns.filter((n) => !spec.key.includes(n)).map(quoteIdent);

  await checkHeader(spec, path);
  await client.query('begin');
  try {
    // One import at a time per table (which also keeps the staging table's name to this one); readers go on
    // reading the committed rows meanwhile.
    await client.query(`lock table ${table} in share row exclusive mode`);
    for (const other of spec.referencedTables ?? []) await client.query(`lock table ${quoteIdent(other)} in share mode`);
    // Unlogged and not temporary: nothing of it is worth a WAL record, and parallel workers can read it.
    // Created in this transaction, so a failed import leaves no staging table behind. `line` is filled only when
    // csv-parse read the file: a COPY of the file itself stores its rows in file order, which numbers them.
    await client.query(`create unlogged table ${stage} (line bigint, ${names.map((n) => `${n} text not null`).join(', ')})
      with (autovacuum_enabled = false)`);
    const lineOf = async (row: { line: string | null; ctid: string }) => row.line !== null ? Number(row.line)
      : Number((await client.query<{ before: string }>(`select count(*) as before from ${stage} where ctid < $1`, [row.ctid])).rows[0]!.before) + 2;

    // As it is when COPY reads it the way csv-parse would; else through csv-parse.
    let direct = false;
    let read = 0;
    let misshapen: RejectedRow | undefined;
    await client.query('savepoint direct_copy');
    const counter = new LineCounter();
    try {
      const copy = client.query(copyFrom(
        `copy ${stage} (${names.join(', ')}) from stdin (format csv, header true, encoding 'UTF8', force_not_null (${names.join(', ')}))`,
        { highWaterMark: STREAM_AHEAD_BYTES },
      ));
      await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), counter, copy);
      read = Number(copy.rowCount);
      direct = !counter.quoted && read === counter.lines - 1;
    } catch (err) {
      if (!String((err as { code?: string }).code).startsWith('22')) throw err; // only data errors send the file the other way
    }
    if (!direct) {
      await client.query('rollback to savepoint direct_copy');
      ({ rows: read, misshapen } = await copyParsed(client, stage, spec.columns, path));
    }
    const copyMs = lap();

    const today = literal(options.today);
    const reason = `coalesce(${[
      ...spec.columns.map((column) => `case when strpos(s.${quoteIdent(column)}, E'\\n') > 0 or strpos(s.${quoteIdent(column)}, E'\\r') > 0
        then ${literal(`${column}: contains a line break`)} end`),
      ...spec.checks.map(([column, sql]) => `${literal(`${column}: `)} || (${sql.replaceAll('$today', today)})`),
    ].join(',\n')})`;
    const broken = await client.query<{ line: string | null; ctid: string; reason: string }>(
      `select line, ctid, reason from (select s.line, s.ctid, ${reason}
       as reason from ${stage} s ${spec.joins ?? ''}) checked where reason is not null order by line, ctid limit 1`,
    );
    if (broken.rows[0]) throw new RejectedRow(await lineOf(broken.rows[0]), broken.rows[0].reason);
    if (misshapen) throw misshapen;
    const checksMs = lap();

    /** The first row whose key an earlier row of the file has, as a rejection. */
    const firstRepeat = async (): Promise<RejectedRow | undefined> => {
      const repeat = await client.query<{ line: string; first: string }>(
        `select line, first from (select line, min(line) over (partition by ${key.map((k) => `${k} collate "C"`).join(', ')}) as first
         from (select coalesce(line, row_number() over (order by ctid) + 1) as line, ${key.join(', ')} from ${stage}) numbered) s
         where line > first order by line limit 1`,
      );
      const found = repeat.rows[0];
      return found && new RejectedRow(Number(found.line), `duplicate ${spec.key.join(' + ')} (first at line ${found.first})`);
    };
    for (const ref of spec.references ?? []) {
      const bad = await client.query<{ line: string | null; ctid: string }>(`select line, ctid from ${stage} s where ${ref.where} order by line, ctid limit 1`);
      // A key given twice is reported before a missing reference, as it is the file's own fault.
      if (bad.rows[0]) throw (await firstRepeat()) ?? new RejectedRow(await lineOf(bad.rows[0]), ref.reason);
    }
    const referencesMs = lap();

    // Rows equal to what is stored are left alone, so a re-import writes nothing. In key order (the C collation's,
    // cheap to sort), so that the table's primary key index is filled from left to right. The same sort shows a key
    // given twice: the second row gets a null key, which the table refuses. xmax is 0 on a row this statement inserted.
    const types = await client.query<{ name: string; type: string }>(
      `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
       where attrelid = $1::regclass and attnum > 0 and not attisdropped`, [table]);
    const typeOf = new Map(types.rows.map((r) => [r.name, r.type]));
    const value = (column: string) => spec.values?.[column] ?? `cast(s.${quoteIdent(column)} as ${typeOf.get(column)})`;
    const repeated = key.map((k) => `s.${k} = lag(s.${k}) over keyed`).join(' and ');
    const keyOrder = key.map((k) => `s.${k} collate "C"`).join(', ');
    await client.query('savepoint merge');
    let merged: pg.QueryResult<{ inserted: string; updated: string }>;
    try {
      merged = await client.query(
        `with merged as (
           insert into ${table} as t (${names.join(', ')})
           select ${spec.columns.map((column, i) => (i === spec.columns.indexOf(spec.key[0]!) ? `case when ${repeated} then null else ${value(column)} end` : value(column))).join(', ')}
           from ${stage} s window keyed as (order by ${keyOrder}) order by ${keyOrder}
           on conflict (${key.join(', ')}) do update set ${nonKey.map((n) => `${n} = excluded.${n}`).join(', ')}
           where (${nonKey.map((n) => `t.${n}`).join(', ')}) is distinct from (${nonKey.map((n) => `excluded.${n}`).join(', ')})
           returning xmax = 0 as inserted)
         select count(*) filter (where inserted) as inserted, count(*) filter (where not inserted) as updated from merged`,
      );
    } catch (err) {
      if ((err as { code?: string }).code !== '23502') throw err; // not null violation: the null key of a repeat
      await client.query('rollback to savepoint merge');
      throw (await firstRepeat()) ?? err;
    }
    await client.query(`drop table ${stage}`);
    await client.query('commit');
    const phases = { copy: copyMs, checks: checksMs, references: referencesMs, merge: lap() };
    const counts = { inserted: Number(merged.rows[0]!.inserted), updated: Number(merged.rows[0]!.updated) };
    return { file: spec.file, read, ...counts, unchanged: read - counts.inserted - counts.updated, ms: performance.now() - started, phases, direct };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}

/**
 * Stages the records csv-parse reads, each with its line, up to the first misshapen one (returned, not thrown: the
 * rows before it are checked first, as a rule broken earlier in the file is the one to report).
 *
 * Line numbers are counted here rather than taken from csv-parse's `info` option, which copies an object per
 * record: every record is one line (one holding a line break is refused at the line it starts on by the rules),
 * and an empty line arrives as the record `[""]`.
 */
async function copyParsed(client: pg.ClientBase, stage: string, columns: readonly string[], path: string): Promise<{ rows: number; misshapen?: RejectedRow }> {
  const copy = client.query(copyFrom(`copy ${stage} (line, ${columns.map(quoteIdent).join(', ')}) from stdin`, { highWaterMark: STREAM_AHEAD_BYTES }));
  const copied = finished(copy);
  let rows = 0;
  let line = 0;
  let pending = '';
  let misshapen: RejectedRow | undefined;
  const send = async () => {
    if (!copy.write(pending)) await once(copy, 'drain');
    pending = '';
  };
  try {
    for await (const record of recordsOrRejection(path)) {
      line++;
      if (line === 1) continue; // the header, checked before
      if (record.length === 1 && record[0] === '') continue; // an empty line
      if (record.length !== columns.length) {
        misshapen = new RejectedRow(line, `expected ${columns.length} fields, found ${record.length}`);
        break;
      }
      // COPY text format: tab-separated; backslash, tab and line breaks escaped. NUL cannot be stored in text: it
      // becomes another control character, which the rules refuse for the same reason.
      pending += String(line);
      for (const value of record) pending += `\t${value.replace(/[\\\t\n\r\0]/g, escapeForCopy)}`;
      pending += '\n';
      rows++;
      if (pending.length >= COPY_CHUNK_CHARS) await send();
    }
  } catch (err) {
    if (!(err instanceof RejectedRow)) {
      copy.destroy(err as Error);
      throw err;
    }
    misshapen = err;
  }
  if (pending) await send();
  copy.end();
  await copied;
  return { rows, misshapen };
}
