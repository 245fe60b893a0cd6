/**
 * The employer bulk-registration file (健保卡註冊申請整批資料上傳): reading an uploaded CSV (UTF-8, UTF-8 with BOM,
 * or Big5/CP950 as Excel saves it on Traditional Chinese Windows) or .xlsx, and writing the result file.
 * Everything streams: a 100,000-row file is never held in memory.
 */
import { createReadStream } from 'node:fs';
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';

export { parseBirthDate } from './dates.js';

export type BulkFormat = 'csv' | 'xlsx';
export type BulkEncoding = 'utf-8' | 'utf-8-bom' | 'big5';
export type HeaderLanguage = 'zh' | 'en';

export interface BulkRow {
  /**
   * The row's line number in the file, the header being line 1. In CSV every line break counts, those inside
   * a quoted multi-line cell too, so a row after a two-line cell is one further on; in xlsx it is the sheet row.
   */
  line: number;
  idNumber: string;
  name: string;
  birthDate: string;
  email: string;
  mobile: string;
}

export type FileProblem =
  | { problem: 'empty' }
  | { problem: 'not_a_table' }
  | { problem: 'mixed_encoding' }
  | { problem: 'header'; found: string[] }
  | { problem: 'too_many_rows'; limit: number }
  | { problem: 'malformed'; line: number };

export interface FileInfo {
  format: BulkFormat;
  /** null for xlsx. */
  encoding: BulkEncoding | null;
  /** Data rows (rows whose cells are all blank are not counted, nor read). */
  rows: number;
  /** The language of the file's header, which the result file's header follows. */
  headerLanguage: HeaderLanguage;
}

export type ResultRow = BulkRow & { result: string; reason: string };

/** The file changed between inspecting and reading it (or was never inspected). */
export class BulkFileError extends Error {
  constructor(readonly problem: FileProblem) {
    super(`bulk file: ${problem.problem}`);
    this.name = 'BulkFileError';
  }
}

const CHUNK_BYTES = 64 * 1024;
/** A runaway quoted cell (an unclosed quote) is reported instead of swallowing the rest of the file. */
const MAX_RECORD_CHARS = 64 * 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

// ---------------------------------------------------------------------------------------------------------------
// Header

type Column = 'idNumber' | 'name' | 'birthDate' | 'email' | 'mobile';
const REQUIRED: readonly Column[] = ['idNumber', 'name', 'birthDate', 'email'];
const COLUMNS: readonly Column[] = [...REQUIRED, 'mobile'];

/** Accepted header names, as normalised by `headerKey`. */
const HEADER_NAMES = new Map<string, { column: Column; language: HeaderLanguage }>();
for (const [column, zh, en] of [
  ['idNumber', ['身分證號', '身份證號', '身分證字號', '身份證字號'], ['idnumber']],
  ['name', ['姓名'], ['name']],
  ['birthDate', ['出生日期', '出生年月日'], ['birthdate', 'dateofbirth']],
  ['email', ['電子郵件', '電子信箱'], ['email']],
  ['mobile', ['行動電話', '手機', '手機號碼'], ['mobile']],
] as const) {
  for (const name of zh) HEADER_NAMES.set(name, { column, language: 'zh' });
  for (const name of en) HEADER_NAMES.set(name, { column, language: 'en' });
}

const RESULT_HEADERS: Record<HeaderLanguage, readonly string[]> = {
  zh: ['身分證號', '姓名', '出生日期', 'E-Mail', '行動電話', '結果', '原因'],
  en: ['id_number', 'name', 'birth_date', 'email', 'mobile', 'result', 'reason'],
};

/** Case, width, spaces, `-` and `_` do not matter: `E-Mail`, `Email`, ` ID_Number ` all match. */
const headerKey = (cell: string) => cell.normalize('NFKC').toLowerCase().replace(/[\s_-]/g, '');

interface Header {
  /** Cell index of each column; mobile may be missing. */
  index: Partial<Record<Column, number>>;
  language: HeaderLanguage;
}

function resolveHeader(cells: readonly string[]): Header | FileProblem {
  const index: Partial<Record<Column, number>> = {};
  let zh = 0;
  let en = 0;
  let duplicate = false;
  cells.forEach((cell, i) => {
    const known = HEADER_NAMES.get(headerKey(cell));
    if (!known) return;
    if (index[known.column] !== undefined) duplicate = true;
    index[known.column] = i;
    // E-Mail is the same in both headers, so the other columns tell the language.
    if (known.column !== 'email') known.language === 'zh' ? zh++ : en++;
  });
  if (duplicate || REQUIRED.some((column) => index[column] === undefined)) {
    const found = cells.map((cell) => cell.trim());
    while (found.length && found[found.length - 1] === '') found.pop();
    return { problem: 'header', found };
  }
  return { index, language: zh >= en ? 'zh' : 'en' };
}

function toBulkRow(line: number, { index }: Header, cells: readonly string[]): BulkRow {
  return {
    line,
    idNumber: cells[index.idNumber!]?.trim() ?? '',
    name: cells[index.name!]?.trim() ?? '',
    birthDate: cells[index.birthDate!]?.trim() ?? '',
    email: cells[index.email!]?.trim() ?? '',
    mobile: index.mobile === undefined ? '' : (cells[index.mobile]?.trim() ?? ''),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

class MalformedCsv extends Error {
  constructor(readonly line: number) {
    super(`malformed CSV at line ${line}`);
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;
const AFTER_QUOTED = 4;

const isBlank = (cell: string) => cell.trim() === '';

/**
 * RFC 4180 records from text given piece by piece, one pass, no copies beyond the cells. `\r\n`, `\n` and `\r`
 * each end a line (inside quoted cells too, for the line numbers). Blank space before an opening quote or after a
 * closing one is ignored (cells are trimmed anyway); anything else after a closing quote, or a quote never closed,
 * is malformed. A quote inside an unquoted cell is kept as text, as Excel does. All-blank records are skipped.
 */
class CsvScanner {
  private state = FIELD_START;
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private afterCR = false;
  private field = '';
  private fields: string[] = [];
  private recordChars = 0;

  constructor(private readonly onRecord: (cells: string[], line: number) => void) {}

  write(text: string): void {
    let state = this.state;
    let afterCR = this.afterCR;
    let start = 0;
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (afterCR) {
        afterCR = false;
        if (code === LF) continue; // the second half of \r\n, already counted
      }
      switch (state) {
        case FIELD_START:
          if (code === SPACE || code === TAB) continue;
          if (code === QUOTE) {
            state = QUOTED;
            start = i + 1;
            this.quoteLine = this.line;
          } else if (code === COMMA) {
            this.endField('');
          } else if (code === CR || code === LF) {
            this.endField('');
            this.endRecord();
            afterCR = code === CR;
          } else {
            state = UNQUOTED;
            start = i;
          }
          continue;
        case UNQUOTED:
          if (code === COMMA) {
            this.endField(this.field + text.slice(start, i));
            state = FIELD_START;
          } else if (code === CR || code === LF) {
            this.endField(this.field + text.slice(start, i));
            this.endRecord();
            afterCR = code === CR;
            state = FIELD_START;
          }
          continue;
        case QUOTED:
          if (code === QUOTE) {
            this.field += text.slice(start, i);
            state = QUOTE_IN_QUOTED;
          } else if (code === CR || code === LF) {
            this.line++;
            afterCR = code === CR;
          }
          continue;
        case QUOTE_IN_QUOTED:
          if (code === QUOTE) {
            this.field += '"';
            start = i + 1;
            state = QUOTED;
            continue;
          }
          state = AFTER_QUOTED;
        // falls through: this character follows a closing quote
        case AFTER_QUOTED:
          if (code === SPACE || code === TAB) continue;
          if (code === COMMA) {
            this.endField(this.field);
            state = FIELD_START;
            continue;
          }
          if (code === CR || code === LF) {
            this.endField(this.field);
            this.endRecord();
            afterCR = code === CR;
            state = FIELD_START;
            continue;
          }
          throw new MalformedCsv(this.line);
      }
    }
    if (state === UNQUOTED || state === QUOTED) this.field += text.slice(start);
    if (this.recordChars + this.field.length > MAX_RECORD_CHARS) throw new MalformedCsv(state === QUOTED ? this.quoteLine : this.recordLine);
    this.state = state;
    this.afterCR = afterCR;
  }

  end(): void {
    if (this.state === QUOTED) throw new MalformedCsv(this.quoteLine);
    if (this.state === FIELD_START && this.fields.length === 0) return; // ended with a line break
    this.endField(this.field);
    this.endRecord();
  }

  private endField(value: string): void {
    this.fields.push(value);
    this.field = '';
    this.recordChars += value.length + 1;
    if (this.recordChars > MAX_RECORD_CHARS) throw new MalformedCsv(this.recordLine);
  }

  private endRecord(): void {
    const cells = this.fields;
    const line = this.recordLine;
    this.line++;
    this.recordLine = this.line;
    this.fields = [];
    this.recordChars = 0;
    this.state = FIELD_START;
    if (!cells.every(isBlank)) this.onRecord(cells, line);
  }
}

/** NUL and other C0 controls (but tab, CR, LF) and DEL never occur in text, nor as part of a UTF-8 or Big5 character. */
function hasControlBytes(chunk: Buffer): boolean {
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i]!;
    if (byte < 0x20 ? byte !== TAB && byte !== LF && byte !== CR : byte === 0x7f) return true;
  }
  return false;
}

const decoderFor = (encoding: BulkEncoding) => new TextDecoder(encoding === 'big5' ? 'big5' : 'utf-8', { fatal: true });

/** One pass over a text file as `encoding`: header, row count, syntax; 'undecodable' when it is not that encoding. */
async function inspectCsv(path: string, encoding: BulkEncoding, maxRows: number): Promise<FileInfo | FileProblem | 'undecodable'> {
  const decoder = decoderFor(encoding); // strips a UTF-8 BOM
  let header: Header | undefined;
  let problem: FileProblem | undefined;
  let rows = 0;
  const scanner = new CsvScanner((cells) => {
    if (problem) return;
    if (!header) {
      const found = resolveHeader(cells);
      if ('problem' in found) problem = found;
      else header = found;
    } else if (++rows > maxRows) {
      problem = { problem: 'too_many_rows', limit: maxRows };
    }
  });
  try {
    // Leaving the loop early (a problem found) closes the file: a too-long file is not read to its end.
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      if (hasControlBytes(chunk)) return { problem: 'not_a_table' };
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        return 'undecodable';
      }
      scanner.write(text);
      if (problem) return problem;
    }
    try {
      scanner.write(decoder.decode());
    } catch (err) {
      if (err instanceof MalformedCsv) throw err;
      return 'undecodable'; // ends inside a character
    }
    scanner.end();
  } catch (err) {
    if (err instanceof MalformedCsv) return { problem: 'malformed', line: err.line };
    throw err;
  }
  if (problem) return problem;
  if (!header || rows === 0) return { problem: 'empty' };
  return { format: 'csv', encoding, rows, headerLanguage: header.language };
}

async function* readCsv(path: string, encoding: BulkEncoding, fromLine: number): AsyncGenerator<BulkRow> {
  const decoder = decoderFor(encoding);
  let header: Header | undefined;
  let pending: BulkRow[] = [];
  const scanner = new CsvScanner((cells, line) => {
    if (!header) {
      const found = resolveHeader(cells);
      if ('problem' in found) throw new BulkFileError(found);
      header = found;
    } else if (line >= fromLine) {
      pending.push(toBulkRow(line, header, cells));
    }
  });
  const decode = (chunk?: Buffer) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new BulkFileError({ problem: 'mixed_encoding' });
    }
  };
  const scan = (run: () => void) => {
    try {
      run();
    } catch (err) {
      throw err instanceof MalformedCsv ? new BulkFileError({ problem: 'malformed', line: err.line }) : err;
    }
    const rows = pending;
    pending = [];
    return rows;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    for (const row of scan(() => scanner.write(decode(chunk)))) yield row;
  }
  for (const row of scan(() => (scanner.write(decode()), scanner.end()))) yield row;
}

// ---------------------------------------------------------------------------------------------------------------
// xlsx

/** What exceljs's streaming reader has but does not declare. */
interface ReaderInternals {
  model?: { sheets?: { name: string }[] };
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string): Generator<unknown>;
}
interface SheetInternals {
  name: string;
  iterator: unknown;
}

/** A worksheet's XML decoded as one UTF-8 text, so a character split between two zip chunks stays whole. */
class Utf8Text implements AsyncIterable<string> {
  constructor(private readonly source: AsyncIterable<Buffer | string>) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    for await (const chunk of this.source) {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  /** A sheet never read: exceljs parked it in a temporary file whose open stream must be closed. */
  release(): void {
    if (this.source instanceof Readable) this.source.destroy();
  }
}

class NotASpreadsheet extends Error {}

function workbookReader(input: Readable): ExcelJS.stream.xlsx.WorkbookReader {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache', // to tell date cells from numbers
    entries: 'ignore',
  });
  // exceljs 4.4 decodes every zip chunk by itself, so a Chinese character that straddles two chunks becomes
  // U+FFFD (exceljs issues #2063, #2084, #2316): hand its XML parser text decoded across chunks instead.
  const internals = reader as unknown as ReaderInternals;
  const parseSharedStrings = internals._parseSharedStrings;
  internals._parseSharedStrings = function (entry) {
    entry.setEncoding('utf8');
    return parseSharedStrings.call(this, entry);
  };
  const parseWorksheet = internals._parseWorksheet;
  internals._parseWorksheet = function (iterator, sheetNo) {
    return parseWorksheet.call(this, new Utf8Text(iterator), sheetNo);
  };
  return reader;
}

function releaseSheet(sheet: ExcelJS.stream.xlsx.WorksheetReader): void {
  const { iterator } = sheet as unknown as SheetInternals;
  if (iterator instanceof Utf8Text) iterator.release();
}

/** The first tab of the workbook (when exceljs could match the sheet to the workbook's list; else the first met). */
function isFirstSheet(reader: ExcelJS.stream.xlsx.WorkbookReader, sheet: ExcelJS.stream.xlsx.WorksheetReader): boolean {
  const sheets = (reader as unknown as ReaderInternals).model?.sheets;
  const name = (sheet as unknown as SheetInternals).name;
  if (!sheets?.length) return true;
  return sheets[0]!.name === name || !sheets.some((listed) => listed.name === name);
}

/** A cell as text: numbers as written, Excel dates as ISO dates, rich text joined, formulas by their result. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const cell = value as { richText?: { text?: string }[]; text?: unknown; result?: unknown; error?: string };
    if (Array.isArray(cell.richText)) return cell.richText.map((run) => run.text ?? '').join('');
    if ('result' in cell) return cellText(cell.result);
    if ('text' in cell) return cellText(cell.text);
    if (typeof cell.error === 'string') return cell.error;
  }
  return '';
}

/** Excel turns a typed 0912345678 into the number 912345678: give a mobile number its leading zero back. */
function mobileText(value: unknown): string {
  const text = cellText(value);
  return typeof value === 'number' && /^9\d{8}$/.test(text) ? `0${text}` : text;
}

/**
 * Rejects the pending step when the file or the unzipper fails: exceljs passes neither error on and would wait
 * forever for an entry that never ends (a truncated or broken zip).
 */
class Failure {
  error: unknown;
  private reject: ((err: unknown) => void) | undefined;

  fail(err: unknown): void {
    if (this.error !== undefined) return;
    this.error = err;
    this.reject?.(err);
  }

  step<T>(promise: Promise<T>): Promise<T> {
    if (this.error !== undefined) return Promise.reject(this.error);
    return new Promise<T>((resolve, reject) => {
      this.reject = reject;
      promise.then(resolve, reject);
    });
  }
}

/**
 * The non-blank rows of the first worksheet, streaming (values indexed from 0). Leaving early (a consumer's
 * `break`) still lets exceljs finish the workbook's entries so it removes the temporary files it parks sheets in.
 */
async function* xlsxRows(path: string): AsyncGenerator<{ line: number; values: unknown[] }> {
  const handle = await open(path); // a missing file fails here
  const input = handle.createReadStream({ highWaterMark: CHUNK_BYTES });
  const failure = new Failure();
  input.once('error', (err) => failure.fail(err));
  const pipe = input.pipe.bind(input);
  input.pipe = <T extends NodeJS.WritableStream>(unzipper: T, options?: { end?: boolean }): T => {
    (unzipper as unknown as Readable).once('error', (err) => failure.fail(new NotASpreadsheet(`unzip: ${err.message}`)));
    return pipe(unzipper, options);
  };
  const reader = workbookReader(input);
  const sheets = reader[Symbol.asyncIterator]();
  let taken = false;
  let settled = false; // read to its end: nothing left to wind down
  try {
    for (let sheet = await failure.step(sheets.next()); !sheet.done; sheet = await failure.step(sheets.next())) {
      if (taken || !isFirstSheet(reader, sheet.value)) {
        releaseSheet(sheet.value);
        continue;
      }
      taken = true;
      const rows = sheet.value[Symbol.asyncIterator]();
      let rowsSettled = false;
      try {
        for (let row = await failure.step(rows.next()); !row.done; row = await failure.step(rows.next())) {
          const values = Array.from((row.value.values as unknown[]).slice(1)); // exceljs counts columns from 1; holes → undefined
          if (values.some((value) => !isBlank(cellText(value)))) yield { line: row.value.number, values };
        }
        rowsSettled = true;
      } finally {
        // Stopped early: close the sheet (unless exceljs is stuck on a failed file).
        if (!rowsSettled && failure.error === undefined) await rows.return(undefined).catch(() => {});
      }
    }
    settled = true;
  } finally {
    if (!settled && failure.error === undefined) {
      // Stopped early or a broken sheet: let exceljs finish the workbook's entries, which removes its temporary files.
      try {
        for (let sheet = await failure.step(sheets.next()); !sheet.done; sheet = await failure.step(sheets.next())) releaseSheet(sheet.value);
      } catch {
        // a broken workbook: nothing more to clean
      }
    }
    input.destroy();
  }
  if (!taken) throw new NotASpreadsheet('no worksheet');
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;

/**
 * Whether the zip ends with its central directory, as a whole one does. A cut-short upload does not, and exceljs
 * would leave temporary files behind on it (until the process exits) before failing.
 */
async function zipLooksWhole(handle: FileHandle, size: number): Promise<boolean> {
  const tailLength = Math.min(size, 22 + 0xffff); // the end record, after a comment of up to 64 KiB
  const tailStart = size - tailLength;
  const tail = Buffer.alloc(tailLength);
  await handle.read(tail, 0, tailLength, tailStart);
  for (let i = tailLength - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== END_OF_CENTRAL_DIRECTORY) continue;
    const directorySize = tail.readUInt32LE(i + 12);
    const directoryOffset = tail.readUInt32LE(i + 16);
    if (directoryOffset === 0xffffffff) return true; // zip64: far beyond any upload limit, let exceljs judge
    if (directoryOffset + directorySize > tailStart + i) continue;
    const signature = Buffer.alloc(4);
    await handle.read(signature, 0, 4, directoryOffset);
    return signature.readUInt32LE(0) === CENTRAL_DIRECTORY_ENTRY;
  }
  return false;
}

const isSystemError = (err: unknown) => typeof (err as NodeJS.ErrnoException | null)?.syscall === 'string';

async function inspectXlsx(path: string, maxRows: number): Promise<FileInfo | FileProblem> {
  let header: Header | undefined;
  let rows = 0;
  try {
    for await (const { values } of xlsxRows(path)) {
      if (!header) {
        const found = resolveHeader(values.map(cellText));
        if ('problem' in found) return found;
        header = found;
      } else if (++rows > maxRows) {
        return { problem: 'too_many_rows', limit: maxRows };
      }
    }
  } catch (err) {
    if (isSystemError(err)) throw err;
    return { problem: 'not_a_table' }; // a zip that is no workbook, or a broken one
  }
  if (!header || rows === 0) return { problem: 'empty' };
  return { format: 'xlsx', encoding: null, rows, headerLanguage: header.language };
}

async function* readXlsx(path: string, fromLine: number): AsyncGenerator<BulkRow> {
  let header: Header | undefined;
  const rows = xlsxRows(path);
  try {
    for (;;) {
      let next: IteratorResult<{ line: number; values: unknown[] }>;
      try {
        next = await rows.next();
      } catch (err) {
        throw isSystemError(err) ? err : new BulkFileError({ problem: 'not_a_table' });
      }
      if (next.done) return;
      const { line, values } = next.value;
      if (!header) {
        const found = resolveHeader(values.map(cellText));
        if ('problem' in found) throw new BulkFileError(found);
        header = found;
      } else if (line >= fromLine) {
        const cells = values.map(cellText);
        if (header.index.mobile !== undefined) cells[header.index.mobile] = mobileText(values[header.index.mobile]);
        yield toBulkRow(line, header, cells);
      }
    }
  } finally {
    await rows.return(undefined); // stopped early: closes the workbook
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The API

/**
 * Reads the whole file once (streaming, memory flat) and tells what it is: the format by content (zip magic →
 * xlsx, else text), the encoding (BOM → utf-8-bom; valid UTF-8 throughout → utf-8; else valid Big5/CP950 → big5;
 * else mixed_encoding), the header, and the data rows; or the first problem found. Stops reading at `maxRows + 1`.
 * The client's file name plays no part: a PNG named x.csv is not_a_table.
 */
export async function inspectBulkFile(path: string, options: { maxRows: number }): Promise<FileInfo | FileProblem> {
  const prefix = Buffer.alloc(4);
  let length: number;
  let wholeZip = false;
  const handle = await open(path);
  try {
    ({ bytesRead: length } = await handle.read(prefix, 0, prefix.length, 0));
    if (length === 4 && prefix.equals(ZIP_MAGIC)) wholeZip = await zipLooksWhole(handle, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
  if (length === 0) return { problem: 'empty' };
  if (length === 4 && prefix.equals(ZIP_MAGIC)) return wholeZip ? inspectXlsx(path, options.maxRows) : { problem: 'not_a_table' };
  if (length >= 3 && prefix.subarray(0, 3).equals(UTF8_BOM)) {
    const info = await inspectCsv(path, 'utf-8-bom', options.maxRows);
    return info === 'undecodable' ? { problem: 'mixed_encoding' } : info;
  }
  // A Big5 file is seldom valid UTF-8 beyond its first Chinese character, so the second pass rarely rereads much.
  const utf8 = await inspectCsv(path, 'utf-8', options.maxRows);
  if (utf8 !== 'undecodable') return utf8;
  const big5 = await inspectCsv(path, 'big5', options.maxRows);
  return big5 === 'undecodable' ? { problem: 'mixed_encoding' } : big5;
}

/**
 * The data rows in file order, streaming; rows whose line is below `fromLine` are skipped (resuming a job).
 * Throws BulkFileError if the file no longer is what `info` says (it was changed after inspecting).
 */
export function readBulkRows(path: string, info: FileInfo, options: { fromLine?: number } = {}): AsyncIterable<BulkRow> {
  const fromLine = options.fromLine ?? 0;
  if (info.format === 'xlsx') return readXlsx(path, fromLine);
  return readCsv(path, info.encoding ?? 'utf-8', fromLine);
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** Text Excel would run as a formula (or DDE command) gets a leading apostrophe. */
export function formulaSafe(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

const NEEDS_QUOTES = /[",\r\n]/;

function csvCell(cell: string): string {
  const safe = formulaSafe(cell);
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const resultCells = (row: ResultRow) => [row.idNumber, row.name, row.birthDate, row.email, row.mobile, row.result, row.reason];

const csvLine = (row: ResultRow) =>
  `${csvCell(row.idNumber)},${csvCell(row.name)},${csvCell(row.birthDate)},${csvCell(row.email)},${csvCell(row.mobile)},${csvCell(row.result)},${csvCell(row.reason)}\r\n`;

/**
 * Writes the result file: the header in the file's own language plus 結果,原因 (result,reason), then every row
 * with its result and reason, in `info`'s format and encoding (CSV: the same encoding, BOM included, CRLF line
 * ends, RFC 4180 quoting; xlsx: exceljs's streaming writer), every cell formula-safe. Returns the bytes written.
 * On failure the partial file is removed.
 */
export async function writeResultFile(path: string, info: FileInfo, rows: AsyncIterable<ResultRow>): Promise<number> {
  try {
    return info.format === 'xlsx' ? await writeXlsx(path, info.headerLanguage, rows) : await writeCsv(path, info, rows);
  } catch (err) {
    await unlink(path).catch(() => {});
    throw err;
  }
}

const WRITE_CHUNK_CHARS = 32 * 1024;

async function writeCsv(path: string, info: FileInfo, rows: AsyncIterable<ResultRow>): Promise<number> {
  // Characters Big5 lacks (none in names read from a Big5 file) become '?'.
  const encode = info.encoding === 'big5' ? (text: string) => iconv.encode(text, 'big5') : (text: string) => Buffer.from(text, 'utf8');
  let bytes = 0;
  const counted = (buffer: Buffer) => ((bytes += buffer.length), buffer);
  async function* chunks(): AsyncGenerator<Buffer> {
    if (info.encoding === 'utf-8-bom') yield counted(UTF8_BOM);
    let text = `${RESULT_HEADERS[info.headerLanguage].map(csvCell).join(',')}\r\n`;
    for await (const row of rows) {
      text += csvLine(row);
      if (text.length >= WRITE_CHUNK_CHARS) {
        yield counted(encode(text));
        text = '';
      }
    }
    yield counted(encode(text));
  }
  // Opened before the first byte, so that on failure the file exists to be removed (a stream opens it later).
  const handle = await open(path, 'w', 0o600);
  await pipeline(chunks(), handle.createWriteStream());
  return bytes;
}

async function writeXlsx(path: string, language: HeaderLanguage, rows: AsyncIterable<ResultRow>): Promise<number> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet(language === 'zh' ? '結果' : 'Results');
  sheet.columns = [12, 10, 12, 28, 14, 10, 40].map((width) => ({ width }));
  sheet.addRow([...RESULT_HEADERS[language]]).commit();
  let count = 0;
  for await (const row of rows) {
    sheet.addRow(resultCells(row).map(formulaSafe)).commit();
    // The writer ignores backpressure: let the zip and the file catch up now and then.
    if (++count % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  sheet.commit();
  await workbook.commit();
  return (await stat(path)).size;
}
