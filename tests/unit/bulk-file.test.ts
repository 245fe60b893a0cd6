import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { crc32, deflateSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import {
  formulaSafe,
  inspectBulkFile,
  parseBirthDate,
  readBulkRows,
  writeResultFile,
  type BulkRow,
  type FileInfo,
  type ResultRow,
} from '../../src/modules/employers/bulk/file.js';

const dir = mkdtempSync(join(tmpdir(), 'bulk-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function file(name: string, content: string | Buffer): string {
  const path = join(dir, `${++fileCount}-${name}`);
  writeFileSync(path, content);
  return path;
}
const crlf = (lines: string[]) => lines.map((line) => `${line}\r\n`).join('');
const big5 = (text: string) => iconv.encode(text, 'big5');
const withBom = (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function inspected(path: string, maxRows = 100_000): Promise<FileInfo> {
  const info = await inspectBulkFile(path, { maxRows });
  assert.ok(!('problem' in info), `expected a readable file, got ${JSON.stringify(info)}`);
  return info;
}

async function rowsOf(path: string, options?: { fromLine?: number }): Promise<BulkRow[]> {
  return collect(readBulkRows(path, await inspected(path), options));
}

async function xlsxFile(name: string, sheets: { name: string; rows: unknown[][] }[], dress?: (ws: ExcelJS.Worksheet) => void): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  for (const sheet of sheets) {
    const ws = workbook.addWorksheet(sheet.name);
    for (const row of sheet.rows) ws.addRow(row);
    if (dress && sheet === sheets[0]) dress(ws);
  }
  const path = join(dir, `${++fileCount}-${name}`);
  await workbook.xlsx.writeFile(path);
  return path;
}

async function sheetValues(path: string): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  const rows: unknown[][] = [];
  const sheet = workbook.worksheets[0]!;
  // An empty cell reads back as a hole: compare it as ''.
  sheet.eachRow((row) => rows.push(Array.from({ length: sheet.columnCount }, (_, i) => (row.values as unknown[])[i + 1] ?? '')));
  return rows;
}

const HEADER_ZH = '身分證號,姓名,出生日期,E-Mail,行動電話';
const FIVE_CELLS = [
  ['A123456789', '王小明', '0690131', 'wang@example.com', '0912345678'],
  ['B223456780', '陳美玲', '1985-12-05', 'mei@example.com', '0922333444'],
  ['C123456781', 'Lin, Mei-Ling', '069/1/31', 'lin@example.com', ''],
  ['D223456782', '張惠妹', '72/06/15', 'amei@example.com', '0933444555'],
  ['E123456783', '李"阿"明', '1990/01/01', 'lee@example.com', '0944555666'],
];
// As Excel writes it: quotes where a cell needs them (and one where it does not), CRLF, blank space around a cell.
const FIVE_CSV = crlf([
  HEADER_ZH,
  'A123456789,王小明,0690131,wang@example.com,0912345678',
  'B223456780,陳美玲,1985-12-05,"mei@example.com",0922333444',
  'C123456781,"Lin, Mei-Ling",069/1/31,lin@example.com,',
  'D223456782,張惠妹,72/06/15,amei@example.com,0933444555',
  'E123456783,"李""阿""明",1990/01/01, lee@example.com ,0944555666',
]);
const FIVE_ROWS: BulkRow[] = FIVE_CELLS.map(([idNumber, name, birthDate, email, mobile], i) => ({
  line: i + 2,
  idNumber: idNumber!,
  name: name!,
  birthDate: birthDate!,
  email: email!,
  mobile: mobile!,
}));

function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // 1 × 1 pixel
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A zip (stored, one entry) that is not a workbook. */
function zipOf(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const fileName = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const centralOffset = local.length + fileName.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

describe('reading the bulk file', () => {
  test('the same five rows as UTF-8, UTF-8 with BOM, Big5 and xlsx read identically', async () => {
    const utf8 = file('five.csv', FIVE_CSV);
    const bom = file('five-bom.csv', withBom(FIVE_CSV));
    const cp950 = file('five-big5.csv', big5(FIVE_CSV));
    const xlsx = await xlsxFile('five.xlsx', [{ name: '員工', rows: [HEADER_ZH.split(','), ...FIVE_CELLS] }], (ws) => {
      // Excel's leftovers below the data: a cell holding spaces, a formatted empty cell.
      ws.getCell('A9').value = '   ';
      ws.getCell('C10').fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFFF00' } };
    });

    assert.deepEqual(await inspectBulkFile(utf8, { maxRows: 100 }), { format: 'csv', encoding: 'utf-8', rows: 5, headerLanguage: 'zh' });
    assert.deepEqual(await inspectBulkFile(bom, { maxRows: 100 }), { format: 'csv', encoding: 'utf-8-bom', rows: 5, headerLanguage: 'zh' });
    assert.deepEqual(await inspectBulkFile(cp950, { maxRows: 100 }), { format: 'csv', encoding: 'big5', rows: 5, headerLanguage: 'zh' });
    assert.deepEqual(await inspectBulkFile(xlsx, { maxRows: 100 }), { format: 'xlsx', encoding: null, rows: 5, headerLanguage: 'zh' });

    for (const path of [utf8, bom, cp950, xlsx]) assert.deepEqual(await rowsOf(path), FIVE_ROWS, path);
  });

  test('the content decides the format, not the file name', async () => {
    const xlsxNamedCsv = await xlsxFile('really-a-workbook.csv', [{ name: 'S', rows: [HEADER_ZH.split(','), ...FIVE_CELLS] }]);
    assert.equal((await inspected(xlsxNamedCsv)).format, 'xlsx');
    const csvNamedXlsx = file('really-text.xlsx', FIVE_CSV);
    assert.equal((await inspected(csvNamedXlsx)).format, 'csv');
  });

  test('an English header, in any case and spelling of E-mail, is read and remembered as English', async () => {
    const path = file('en.csv', crlf([' ID_Number ,Name,Birth_Date,Email,MOBILE', 'A123456789,Wang Hsiao-Ming,1980-01-31,wang@example.com,0912345678']));
    assert.deepEqual(await inspectBulkFile(path, { maxRows: 10 }), { format: 'csv', encoding: 'utf-8', rows: 1, headerLanguage: 'en' });
    assert.deepEqual(await rowsOf(path), [
      { line: 2, idNumber: 'A123456789', name: 'Wang Hsiao-Ming', birthDate: '1980-01-31', email: 'wang@example.com', mobile: '0912345678' },
    ]);
    const lower = file('en-lower.csv', crlf(['id_number,name,birth_date,e-mail,mobile', 'A123456789,Wang,1980-01-31,w@example.com,']));
    assert.equal((await inspected(lower)).headerLanguage, 'en');
  });

  test('columns in another order, an extra column and no mobile column', async () => {
    const path = file('order.csv', crlf(['備註,E-mail,姓名,出生日期,身分證號', '新進,wang@example.com,王小明,0690131,A123456789', ',mei@example.com,陳美玲,1985-12-05,B223456780']));
    assert.deepEqual(await inspectBulkFile(path, { maxRows: 10 }), { format: 'csv', encoding: 'utf-8', rows: 2, headerLanguage: 'zh' });
    assert.deepEqual(await rowsOf(path), [
      { line: 2, idNumber: 'A123456789', name: '王小明', birthDate: '0690131', email: 'wang@example.com', mobile: '' },
      { line: 3, idNumber: 'B223456780', name: '陳美玲', birthDate: '1985-12-05', email: 'mei@example.com', mobile: '' },
    ]);
  });

  test('rows with fewer or more cells than the header, LF or CR line ends, blank rows Excel leaves', async () => {
    const path = file('ragged.csv', `${HEADER_ZH}\nA123456789,王小明,0690131\n,,,,\n\r\nB223456780,陳美玲,1985-12-05,m@example.com,0922333444,extra\rC123456781,林志明,69/1/31,c@example.com,0911222333`);
    assert.equal((await inspected(path)).rows, 3);
    assert.deepEqual(await rowsOf(path), [
      { line: 2, idNumber: 'A123456789', name: '王小明', birthDate: '0690131', email: '', mobile: '' },
      { line: 5, idNumber: 'B223456780', name: '陳美玲', birthDate: '1985-12-05', email: 'm@example.com', mobile: '0922333444' },
      { line: 6, idNumber: 'C123456781', name: '林志明', birthDate: '69/1/31', email: 'c@example.com', mobile: '0911222333' },
    ]);
  });

  test('a quoted cell over two lines counts both lines, and reading can resume at a later line', async () => {
    const path = file('multiline.csv', crlf([HEADER_ZH, 'A123456789,"王\r\n小明",0690131,wang@example.com,', 'B223456780,陳美玲,1985-12-05,mei@example.com,', 'C123456781,林志明,69/1/31,lin@example.com,']));
    const all = await rowsOf(path);
    assert.deepEqual(all.map((row) => [row.line, row.name]), [[2, '王\r\n小明'], [4, '陳美玲'], [5, '林志明']]);
    assert.deepEqual((await rowsOf(path, { fromLine: 4 })).map((row) => row.line), [4, 5]);
    assert.deepEqual((await rowsOf(path, { fromLine: 3 })).map((row) => row.line), [4, 5], 'a line inside a row starts at the next row');
    assert.deepEqual((await rowsOf(path, { fromLine: 6 })).map((row) => row.line), []);
  });

  test('readBulkRows with fromLine resumes at that line (CSV and xlsx)', async () => {
    const csv = file('resume.csv', big5(FIVE_CSV));
    assert.deepEqual(await rowsOf(csv, { fromLine: 4 }), FIVE_ROWS.slice(2));
    const xlsx = await xlsxFile('resume.xlsx', [{ name: 'S', rows: [HEADER_ZH.split(','), ...FIVE_CELLS] }]);
    assert.deepEqual(await rowsOf(xlsx, { fromLine: 4 }), FIVE_ROWS.slice(2));
    // A consumer that stops early (a paused job) leaves the file readable again from where it stopped.
    for (const path of [csv, xlsx]) {
      const info = await inspected(path);
      let stoppedAt = 0;
      for await (const row of readBulkRows(path, info)) {
        stoppedAt = row.line;
        if (row.line === 3) break;
      }
      assert.deepEqual(await collect(readBulkRows(path, info, { fromLine: stoppedAt + 1 })), FIVE_ROWS.slice(2), path);
    }
  });

  test('xlsx: the first worksheet only, Excel dates as ISO, a mobile number Excel made numeric gets its 0 back', async () => {
    const path = await xlsxFile(
      'typed.xlsx',
      [
        { name: '名單', rows: [HEADER_ZH.split(','), ['A123456789', { richText: [{ text: '王' }, { text: '小明' }] }, new Date(Date.UTC(1980, 0, 31)), 'wang@example.com', 912345678], ['B223456780', '陳美玲', 690131, { text: 'mei@example.com', hyperlink: 'mailto:mei@example.com' }, '0922333444']] },
        { name: '說明', rows: [['身分證號', '姓名', '出生日期', 'E-Mail'], ['X', 'Y', 'Z', 'W']] },
      ],
      (ws) => {
        ws.getCell('C2').numFmt = 'yyyy/m/d';
      },
    );
    assert.deepEqual(await inspectBulkFile(path, { maxRows: 10 }), { format: 'xlsx', encoding: null, rows: 2, headerLanguage: 'zh' });
    assert.deepEqual(await rowsOf(path), [
      { line: 2, idNumber: 'A123456789', name: '王小明', birthDate: '1980-01-31', email: 'wang@example.com', mobile: '0912345678' },
      { line: 3, idNumber: 'B223456780', name: '陳美玲', birthDate: '690131', email: 'mei@example.com', mobile: '0922333444' },
    ]);
  });

  test('xlsx: Chinese text split between two zip chunks is read whole (shared and inline strings)', async () => {
    const names = (i: number) => `${'王陳林張李黃吳劉'[i % 8]}${'小美志惠大'[i % 5]}${'明玲豪妹同'[i % 4]}之${'壹貳參肆伍陸柒捌玖拾'[i % 10]}${i}`;
    for (const useSharedStrings of [true, false]) {
      const path = join(dir, `${++fileCount}-chunks.xlsx`);
      const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings, useStyles: false });
      const ws = writer.addWorksheet('員工');
      ws.addRow(HEADER_ZH.split(',')).commit();
      for (let i = 0; i < 15_000; i++) ws.addRow([`A${100000000 + i}`, names(i), '0690131', `u${i}@example.com`, '']).commit();
      ws.commit();
      await writer.commit();
      let wrong = 0;
      let count = 0;
      for await (const row of readBulkRows(path, await inspected(path))) {
        if (row.name !== names(row.line - 2)) wrong++;
        count++;
      }
      assert.equal(count, 15_000);
      assert.equal(wrong, 0, `${wrong} names garbled (useSharedStrings: ${useSharedStrings})`);
    }
  });
});

describe('problems with the bulk file', () => {
  const problem = (path: string, maxRows = 100) => inspectBulkFile(path, { maxRows });

  test('an empty file, a header only, blank rows only', async () => {
    assert.deepEqual(await problem(file('empty.csv', '')), { problem: 'empty' });
    assert.deepEqual(await problem(file('bom-only.csv', withBom(''))), { problem: 'empty' });
    assert.deepEqual(await problem(file('header.csv', crlf([HEADER_ZH]))), { problem: 'empty' });
    assert.deepEqual(await problem(file('header-blank.csv', crlf([HEADER_ZH, ',,,,', '  ,  ', '']))), { problem: 'empty' });
    assert.deepEqual(await problem(await xlsxFile('header.xlsx', [{ name: 'S', rows: [HEADER_ZH.split(',')] }])), { problem: 'empty' });
    assert.deepEqual(await problem(await xlsxFile('nothing.xlsx', [{ name: 'S', rows: [] }])), { problem: 'empty' });
  });

  test('an unknown header names what it found', async () => {
    assert.deepEqual(await problem(file('unknown.csv', crlf(['編號,名字,生日,信箱,,', '1,王小明,690131,w@example.com']))), {
      problem: 'header',
      found: ['編號', '名字', '生日', '信箱'],
    });
    assert.deepEqual(await problem(file('no-email.csv', crlf(['身分證號,姓名,出生日期,行動電話', 'A123456789,王小明,0690131,0912345678']))), {
      problem: 'header',
      found: ['身分證號', '姓名', '出生日期', '行動電話'],
    });
    assert.deepEqual(await problem(file('no-header.csv', crlf(['A123456789,王小明,0690131,wang@example.com,0912345678']))), {
      problem: 'header',
      found: ['A123456789', '王小明', '0690131', 'wang@example.com', '0912345678'],
    });
    assert.deepEqual(await problem(file('twice.csv', crlf(['身分證號,姓名,姓名,出生日期,E-Mail', 'A123456789,王小明,王大明,0690131,w@example.com']))), {
      problem: 'header',
      found: ['身分證號', '姓名', '姓名', '出生日期', 'E-Mail'],
    });
    const xlsx = await xlsxFile('unknown.xlsx', [{ name: 'S', rows: [['編號', '名字'], ['1', '王小明']] }]);
    assert.deepEqual(await problem(xlsx), { problem: 'header', found: ['編號', '名字'] });
  });

  test('a PNG, a text with NUL bytes, a zip that is no workbook, a broken zip: not a table', async () => {
    assert.deepEqual(await problem(file('photo.csv', png())), { problem: 'not_a_table' });
    assert.deepEqual(await problem(file('nul.csv', Buffer.concat([Buffer.from(FIVE_CSV), Buffer.from([0]), Buffer.from(FIVE_CSV)]))), { problem: 'not_a_table' });
    assert.deepEqual(await problem(file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(FIVE_CSV, 'utf16le')]))), { problem: 'not_a_table' });
    assert.deepEqual(await problem(file('notes.xlsx', zipOf('notes.txt', FIVE_CSV))), { problem: 'not_a_table' });
    assert.deepEqual(await problem(file('broken.xlsx', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 0x41)]))), { problem: 'not_a_table' });
  });

  test('an xlsx cut short or damaged inside is not a table, and reading it does not hang', async () => {
    const path = join(dir, `${++fileCount}-whole.xlsx`);
    const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: false });
    const ws = writer.addWorksheet('員工');
    ws.addRow(HEADER_ZH.split(',')).commit();
    for (let i = 0; i < 3000; i++) ws.addRow([`A${100000000 + i}`, `王小明${i}`, '0690131', `u${i}@example.com`, '0912345678']).commit();
    ws.commit();
    await writer.commit();
    const whole = readFileSync(path);
    assert.equal((await inspected(path)).rows, 3000);
    const cut = file('cut.xlsx', whole.subarray(0, Math.floor(whole.length / 2)));
    assert.deepEqual(await problem(cut, 10_000), { problem: 'not_a_table' });
    for (const at of [0.25, 0.5, 0.75]) {
      const damaged = Buffer.from(whole);
      damaged.fill(0x55, Math.floor(whole.length * at), Math.floor(whole.length * at) + 64);
      assert.deepEqual(await problem(file('damaged.xlsx', damaged), 10_000), { problem: 'not_a_table' }, `damaged at ${at}`);
    }
    await assert.rejects(collect(readBulkRows(cut, { format: 'xlsx', encoding: null, rows: 3000, headerLanguage: 'zh' })), {
      name: 'BulkFileError',
      problem: { problem: 'not_a_table' },
    });
  });

  test('a file that is half UTF-8 and half Big5 is mixed_encoding', async () => {
    const half = (from: number, count: number) => Array.from({ length: count }, (_, i) => `A${100000000 + from + i},王小明${from + i},0690131,wang${i}@example.com,0912345678`);
    const small = Buffer.concat([Buffer.from(crlf([HEADER_ZH, ...half(0, 3)])), big5(crlf(half(3, 3)))]);
    assert.deepEqual(await problem(file('mixed.csv', small)), { problem: 'mixed_encoding' });
    // Past the first chunk read, so the UTF-8 pass gets far before the Big5 half.
    const large = Buffer.concat([Buffer.from(crlf([HEADER_ZH, ...half(0, 3000)])), big5(crlf(half(3000, 3000)))]);
    assert.ok(large.length > 256 * 1024);
    assert.deepEqual(await problem(file('mixed-large.csv', large), 10_000), { problem: 'mixed_encoding' });
    const bigHalfFirst = Buffer.concat([big5(crlf([HEADER_ZH, ...half(0, 3)])), Buffer.from(crlf(half(3, 3)))]);
    assert.deepEqual(await problem(file('mixed-big5-first.csv', bigHalfFirst)), { problem: 'mixed_encoding' });
    assert.deepEqual(await problem(file('bom-big5.csv', Buffer.concat([withBom(crlf([HEADER_ZH])), big5(crlf(half(0, 2)))]))), { problem: 'mixed_encoding' });
  });

  test('100,001 rows with a limit of 100,000 is too_many_rows, found without reading to the end', async () => {
    const path = join(dir, `${++fileCount}-long.csv`);
    const out = createWriteStream(path);
    out.write(`${HEADER_ZH}\r\n`);
    // 100,001 rows, 20,000 more, and a broken last row: reading it all would say "malformed".
    for (let start = 0; start < 120_001; start += 10_000) {
      let text = '';
      for (let i = start; i < Math.min(start + 10_000, 120_001); i++) text += `A${100000000 + i},王小明,0690131,user${i}@example.com,0912345678\r\n`;
      out.write(text);
    }
    out.end('Z123456789,"never closed,0690131,z@example.com,\r\n');
    await finished(out);
    assert.deepEqual(await inspectBulkFile(path, { maxRows: 100_000 }), { problem: 'too_many_rows', limit: 100_000 });
    assert.deepEqual(await inspectBulkFile(path, { maxRows: 200_000 }), { problem: 'malformed', line: 120_003 });
    const xlsx = await xlsxFile('long.xlsx', [{ name: 'S', rows: [HEADER_ZH.split(','), ...FIVE_CELLS, ...FIVE_CELLS] }]);
    assert.deepEqual(await inspectBulkFile(xlsx, { maxRows: 9 }), { problem: 'too_many_rows', limit: 9 });
    assert.equal((await inspected(xlsx, 10)).rows, 10);
  });

  test('an unclosed quote or text after a closing quote is malformed at its line', async () => {
    const unclosed = file('unclosed.csv', crlf([HEADER_ZH, 'A123456789,"王\n小明",0690131,w@example.com,', 'B223456780,"陳美玲,1985-12-05,m@example.com,', 'C123456781,林志明,69/1/31,c@example.com,']));
    assert.deepEqual(await problem(unclosed), { problem: 'malformed', line: 4 });
    const stray = file('stray.csv', crlf([HEADER_ZH, 'A123456789,王小明,0690131,w@example.com,', 'B223456780,"陳美玲"x,1985-12-05,m@example.com,']));
    assert.deepEqual(await problem(stray), { problem: 'malformed', line: 3 });
    // An unclosed quote early in a long file stops at the longest row allowed, not at the end of the file.
    const rows = Array.from({ length: 5000 }, (_, i) => `A${100000000 + i},王小明,0690131,user${i}@example.com,`);
    const runaway = file('runaway.csv', crlf([HEADER_ZH, rows[0]!, 'B223456780,"陳美玲,1985-12-05,m@example.com,', ...rows.slice(1), 'C1,"x"y']));
    assert.deepEqual(await problem(runaway, 10_000), { problem: 'malformed', line: 3 });
    await assert.rejects(collect(readBulkRows(stray, { format: 'csv', encoding: 'utf-8', rows: 2, headerLanguage: 'zh' })), {
      name: 'BulkFileError',
      problem: { problem: 'malformed', line: 3 },
    });
  });
});

describe('parseBirthDate', () => {
  test('ROC and ISO forms of 1980-01-31', () => {
    for (const text of ['0690131', '690131', '69/01/31', '069/1/31', '1980-01-31', '1980/1/31', ' 069/01/31 ', '０６９０１３１']) {
      assert.equal(parseBirthDate(text), '1980-01-31', text);
    }
  });

  test('only real dates', () => {
    assert.equal(parseBirthDate('1130229'), '2024-02-29');
    assert.equal(parseBirthDate('0010101'), '1912-01-01');
    assert.equal(parseBirthDate('2000-02-29'), '2000-02-29');
    for (const text of ['1120229', '2023-02-30', '', 'abc', '0000101', '1900-02-29', '1980-13-01', '69/1/32', '1980-01/31', '19800131', '0690131x']) {
      assert.equal(parseBirthDate(text), null, text);
    }
  });
});

describe('writing the result file', () => {
  const results = (rows: BulkRow[], reason: (row: BulkRow, i: number) => string = (_row, i) => (i % 2 ? '身分證號錯誤' : '')) =>
    (async function* () {
      for (const [i, row] of rows.entries()) yield { ...row, result: i % 2 ? '失敗' : '成功', reason: reason(row, i) } satisfies ResultRow;
    })();

  test('Big5 in, Big5 out, Chinese header, CRLF, RFC 4180 quoting', async () => {
    const input = file('in-big5.csv', big5(FIVE_CSV));
    const info = await inspected(input);
    const output = join(dir, 'out-big5.csv');
    const bytes = await writeResultFile(output, info, results(await collect(readBulkRows(input, info)), (_row, i) => (i === 4 ? '格式錯誤: "E-Mail", 請修正' : i % 2 ? '身分證號錯誤' : '')));
    const written = readFileSync(output);
    assert.equal(bytes, written.length);
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(written), 'not UTF-8');
    assert.equal(
      new TextDecoder('big5', { fatal: true }).decode(written),
      crlf([
        '身分證號,姓名,出生日期,E-Mail,行動電話,結果,原因',
        'A123456789,王小明,0690131,wang@example.com,0912345678,成功,',
        'B223456780,陳美玲,1985-12-05,mei@example.com,0922333444,失敗,身分證號錯誤',
        'C123456781,"Lin, Mei-Ling",069/1/31,lin@example.com,,成功,',
        'D223456782,張惠妹,72/06/15,amei@example.com,0933444555,失敗,身分證號錯誤',
        'E123456783,"李""阿""明",1990/01/01,lee@example.com,0944555666,成功,"格式錯誤: ""E-Mail"", 請修正"',
      ]),
    );
  });

  test('UTF-8 with BOM keeps the BOM, UTF-8 without stays without, English header stays English', async () => {
    const bomIn = file('in-bom.csv', withBom(FIVE_CSV));
    const bomOut = join(dir, 'out-bom.csv');
    const bomInfo = await inspected(bomIn);
    await writeResultFile(bomOut, bomInfo, results(await collect(readBulkRows(bomIn, bomInfo))));
    const bomBytes = readFileSync(bomOut);
    assert.deepEqual([...bomBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.ok(bomBytes.subarray(3).toString('utf8').startsWith('身分證號,姓名,出生日期,E-Mail,行動電話,結果,原因\r\n'));

    const enIn = file('in-en.csv', crlf(['id_number,name,birth_date,email', 'A123456789,Wang,1980-01-31,w@example.com']));
    const enOut = join(dir, 'out-en.csv');
    const enInfo = await inspected(enIn);
    await writeResultFile(enOut, enInfo, results(await collect(readBulkRows(enIn, enInfo))));
    const enText = readFileSync(enOut, 'utf8');
    assert.notEqual(enText.charCodeAt(0), 0xfeff);
    assert.equal(enText, crlf(['id_number,name,birth_date,email,mobile,result,reason', 'A123456789,Wang,1980-01-31,w@example.com,,成功,']));
  });

  test('cells Excel would run as formulas come out with a leading apostrophe, and the file reads back', async () => {
    const row = (line: number, name: string): BulkRow => ({ line, idNumber: 'A123456789', name, birthDate: '0690131', email: 'w@example.com', mobile: '' });
    const dangerous = ["=cmd|' /C calc'!A0", '+1', '-1', '@x', '\tx', '\rx', '=HYPERLINK("http://x","y")'];
    const info: FileInfo = { format: 'csv', encoding: 'utf-8', rows: dangerous.length, headerLanguage: 'zh' };
    const output = join(dir, 'out-formula.csv');
    await writeResultFile(output, info, results(dangerous.map((name, i) => row(i + 2, name)), () => '=1+1'));
    const lines = readFileSync(output, 'utf8').split('\r\n');
    assert.equal(lines[1], "A123456789,'=cmd|' /C calc'!A0,0690131,w@example.com,,成功,'=1+1");
    assert.equal(lines[2], "A123456789,'+1,0690131,w@example.com,,失敗,'=1+1");
    assert.ok(!/(?<!\r)\n/.test(readFileSync(output, 'utf8')), 'CRLF line ends only');
    const back = await rowsOf(output);
    assert.deepEqual(back.map((row) => row.name), dangerous.map((name) => `'${name}`));
    assert.equal(formulaSafe('a=b'), 'a=b');
    assert.equal(formulaSafe('王小明'), '王小明');
    assert.equal(formulaSafe(''), '');
  });

  test('xlsx in, xlsx out: exceljs reads the same cells back', async () => {
    const input = await xlsxFile('in.xlsx', [{ name: '員工', rows: [HEADER_ZH.split(','), ...FIVE_CELLS, ['F123456784', '=SUM(1)', '0690131', 'f@example.com', '']] }]);
    const info = await inspected(input);
    const output = join(dir, 'out.xlsx');
    const bytes = await writeResultFile(output, info, results(await collect(readBulkRows(input, info))));
    assert.equal(bytes, statSync(output).size);
    assert.deepEqual(readFileSync(output).subarray(0, 4), Buffer.from('PK\x03\x04'));
    assert.deepEqual(await sheetValues(output), [
      ['身分證號', '姓名', '出生日期', 'E-Mail', '行動電話', '結果', '原因'],
      ...FIVE_CELLS.map((cells, i) => [...cells, i % 2 ? '失敗' : '成功', i % 2 ? '身分證號錯誤' : '']),
      ['F123456784', "'=SUM(1)", '0690131', 'f@example.com', '', '失敗', '身分證號錯誤'],
    ]);
    assert.deepEqual(await inspectBulkFile(output, { maxRows: 10 }), { format: 'xlsx', encoding: null, rows: 6, headerLanguage: 'zh' });
  });

  test('a failing source leaves no half-written file', async () => {
    const output = join(dir, 'out-failed.csv');
    const failing = (async function* () {
      yield { ...FIVE_ROWS[0]!, result: '成功', reason: '' };
      throw new Error('database went away');
    })();
    await assert.rejects(writeResultFile(output, { format: 'csv', encoding: 'utf-8', rows: 5, headerLanguage: 'zh' }, failing), /database went away/);
    assert.throws(() => statSync(output), { code: 'ENOENT' });
  });
});

describe('a 100,000-row file', () => {
  test('inspects, reads and writes its result with memory staying low', async (context) => {
    const path = join(dir, 'hundred-thousand.csv');
    const out = createWriteStream(path);
    const surnames = '王陳林張李黃吳劉蔡楊';
    out.write(`${HEADER_ZH}\r\n`);
    for (let start = 0; start < 100_000; start += 10_000) {
      let text = '';
      for (let i = start; i < start + 10_000; i++) {
        text += `A${100000000 + i},${surnames[i % 10]}小明${i % 100},0${69 + (i % 30)}0131,employee.${i}@example-company.com.tw,09${String(i).padStart(8, '0')}\r\n`;
      }
      out.write(text);
    }
    out.end();
    await finished(out);
    const size = statSync(path).size;

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));

    let started = performance.now();
    const info = await inspected(path);
    const inspectMs = performance.now() - started;
    sample();
    assert.deepEqual(info, { format: 'csv', encoding: 'utf-8', rows: 100_000, headerLanguage: 'zh' });

    started = performance.now();
    let count = 0;
    let last: BulkRow | undefined;
    for await (const row of readBulkRows(path, info)) {
      if (++count % 10_000 === 0) sample();
      last = row;
    }
    const readMs = performance.now() - started;
    assert.equal(count, 100_000);
    assert.deepEqual(last, { line: 100_001, idNumber: 'A100099999', name: '楊小明99', birthDate: '0780131', email: 'employee.99999@example-company.com.tw', mobile: '0900099999' });

    started = performance.now();
    const output = join(dir, 'hundred-thousand-result.csv');
    const bytes = await writeResultFile(
      output,
      info,
      (async function* () {
        let served = 0;
        for await (const row of readBulkRows(path, info)) {
          if (++served % 10_000 === 0) sample();
          yield { ...row, result: '失敗', reason: '查無此投保紀錄' };
        }
      })(),
    );
    const writeMs = performance.now() - started;
    sample();
    assert.equal(bytes, statSync(output).size);

    const grownMb = (peak - baseline) / 1024 / 1024;
    context.diagnostic(`${(size / 1024 / 1024).toFixed(1)} MB: inspect ${inspectMs.toFixed(0)} ms, read ${readMs.toFixed(0)} ms, read + write result ${writeMs.toFixed(0)} ms; rss grew ${grownMb.toFixed(0)} MB`);
    assert.ok(grownMb < 100, `rss grew ${grownMb.toFixed(0)} MB`);
    assert.ok(inspectMs < 2000, `inspect took ${inspectMs.toFixed(0)} ms`);
  });
});
