import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { householdNumberError, idCheckDigit, idNumberError, neighborhoodError, villageCodeShapeError } from '../../src/modules/household/index.js';
import { cardNumberError, publicKeyError } from '../../src/modules/cards/index.js';
import { unitCodeError } from '../../src/modules/employers/index.js';
import { importRegistryFolder } from '../../src/modules/registry/index.js';
import { isoDateError, textError } from '../../src/platform/registry-import/index.js';
import { createTestDatabase } from '../helpers/db.js';

const TODAY = '2026-03-02';
const now = new Date('2026-03-02T04:00:00Z');

/** A repeatable stream of pseudo-random numbers, so a failure can be run again as it was. */
function numbers(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** Strings of `alphabet` around `length`: mostly well-formed, now and then one character or the length off. */
function corpus(alphabet: string, length: number, count: number, seed: number): string[] {
  const next = numbers(seed);
  const odd = ['a', ' ', '-', '０', '王', '𡘙', '\u0007', 'Z', '9', '\uFFFD', ','];
  return Array.from({ length: count }, () => {
    const size = next() < 0.8 ? length : Math.floor(next() * (length + 3));
    let text = '';
    for (let i = 0; i < size; i++) text += next() < 0.97 ? alphabet[Math.floor(next() * alphabet.length)] : odd[Math.floor(next() * odd.length)];
    return text;
  });
}

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** ID numbers: random ones (mostly a wrong check digit) and ones completed with their right check digit. */
function idNumbers(): string[] {
  const next = numbers(7);
  const valid = Array.from({ length: 300 }, () => {
    const prefix = LETTERS[Math.floor(next() * 26)]! + '1289ABCD'[Math.floor(next() * 8)]! + String(Math.floor(next() * 1e7)).padStart(7, '0');
    return prefix + idCheckDigit(prefix);
  });
  return [...valid, ...corpus(LETTERS + DIGITS, 10, 500, 11), 'A123456789', 'FA12345689', 'AE12345678', 'a123456789', 'A12345678', 'A1234567X9', ''];
}

function dates(): string[] {
  const next = numbers(3);
  const random = Array.from({ length: 500 }, () =>
    `${String(1850 + Math.floor(next() * 200)).padStart(4, '0')}-${String(Math.floor(next() * 14)).padStart(2, '0')}-${String(Math.floor(next() * 33)).padStart(2, '0')}`);
  return [...random, ...corpus(`${DIGITS}-`, 10, 200, 5), '2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '1879-12-31', '1880-01-01',
    TODAY, '2026-03-03', '0000-01-01', '2023-1-01', '20230101', '２０２３-01-01', ''];
}

function texts(): string[] {
  return [...corpus('王小明林璿 ', 6, 300, 13), '王小明', '𡘙'.repeat(40), '𡘙'.repeat(41), '王'.repeat(41), '', ' ', '\u3000', '王\u3000', '\u00a0王',
    '王\u0007明', '王\u0085明', ' 王小明', '王小明 ', '王\uFFFD明', '\ufeff王', '王\u2028', 'O\'Brien', '王"明'];
}

describe('the import\'s SQL rules say what their JavaScript twins say', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  before(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  /** Each value's reason from SQL, in order (null becomes undefined, as the JavaScript rules say it). */
  async function sqlReasons(call: string, values: string[], extra: unknown[] = []): Promise<(string | undefined)[]> {
    const { rows } = await pool.query<{ reason: string | null }>(
      `select ${call} as reason from unnest($1::text[]) with ordinality as v(value, n) order by n`, [values, ...extra]);
    return rows.map((r) => r.reason ?? undefined);
  }

  const rules: [name: string, call: string, values: () => string[], js: (value: string) => string | undefined, extra?: unknown[]][] = [
    ['ID numbers', 'registry_id_number_error(v.value)', idNumbers, idNumberError],
    ['dates', 'registry_date_error(v.value, $2)', dates, (value) => isoDateError(value, TODAY), [TODAY]],
    ['names', 'registry_text_error(v.value, 40)', texts, (value) => textError(value, 40)],
    ['household numbers', 'registry_household_number_error(v.value)', () => [...corpus(LETTERS + DIGITS, 8, 300, 17), 'f1234567', 'F123456-', 'F1234567'], householdNumberError],
    ['neighborhoods', 'registry_neighborhood_error(v.value)', () => [...corpus(DIGITS, 3, 300, 19), '0', '00', '007', '1000', '-1', '1.5', '', ' 1'], neighborhoodError],
    ['village codes', 'registry_village_code_shape_error(v.value)', () => corpus(DIGITS, 11, 300, 23), villageCodeShapeError],
    ['card numbers', 'registry_card_number_error(v.value)', () => corpus(DIGITS, 12, 300, 29), cardNumberError],
    ['unit codes', 'registry_unit_code_error(v.value)', () => corpus(DIGITS, 8, 300, 31), unitCodeError],
    ['public keys', 'registry_public_key_error(v.value)', () => [...Array.from({ length: 100 }, (_v, i) => Buffer.alloc(32, i * 7 + 1).toString('base64url')),
      ...corpus(`${LETTERS}abcdefghijklmnopqrstuvwxyz${DIGITS}_-`, 43, 300, 37), `${Buffer.alloc(32, 1).toString('base64url')}=`], publicKeyError],
  ];
  for (const [name, call, values, js, extra] of rules) {
    test(`${name}: the same reason, word for word, for every value tried`, async () => {
      const tried = values();
      const expected = tried.map(js);
      assert.ok(expected.some((r) => r === undefined) && expected.some((r) => r !== undefined), 'the values include good and bad ones');
      assert.deepEqual(await sqlReasons(call, tried, extra), expected);
    });
  }
});

describe('a cards.csv or enrollments.csv row is checked field by field, with the column named in the reason', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const root = mkdtempSync(join(tmpdir(), 'nhi-rules-'));
  const key = Buffer.alloc(32, 1).toString('base64url');
  before(async () => {
    database = await createTestDatabase();
    const folder = join(root, 'persons');
    mkdirSync(folder);
    writeFileSync(join(folder, 'persons.csv'), 'id_number,name,birth_date,sex,household_number,village_code,neighborhood\nA123456789,王小明,1980-01-31,M,F1234567,63000010002,1\n');
    assert.equal((await importRegistryFolder(database.url, folder, { now })).rejected, undefined);
  });
  after(async () => {
    await database.drop();
    rmSync(root, { recursive: true, force: true });
  });

  async function rejection(file: string, header: string, row: string) {
    const folder = mkdtempSync(join(root, 'f-'));
    writeFileSync(join(folder, file), `${header}\n${row}\n`);
    return (await importRegistryFolder(database.url, folder, { now })).rejected?.reason;
  }
  const card = (row: string) => rejection('cards.csv', 'card_number,id_number,issued_on,status,public_key', row);
  const enrollment = (row: string) => rejection('enrollments.csv', 'id_number,unit_code,unit_name,insured', row);

  test('cards', async () => {
    assert.equal(await card(`000012345678,A123456789,2015-06-01,valid,${key}`), undefined);
    assert.equal(await card('000012345679,A123456789,2015-06-01,void,'), undefined);
    assert.equal(await card('00001234567,A123456789,2015-06-01,valid,'), 'card_number: "00001234567" must be exactly 12 digits');
    assert.equal(await card('000012345678,A123456788,2015-06-01,valid,'), 'id_number: wrong check digit');
    assert.equal(await card('000012345678,A123456789,2027-06-01,valid,'), 'issued_on: 2027-06-01 is in the future');
    assert.equal(await card('000012345678,A123456789,2015-06-01,lost,'), 'status: "lost" must be valid or void');
    assert.equal(await card(`000012345678,A123456789,2015-06-01,valid,${key}=`), 'public_key: must be the base64url (no padding) of a 32-byte Ed25519 public key, or empty');
  });

  test('enrollments', async () => {
    assert.equal(await enrollment('A123456789,12345678,示範股份有限公司,1'), undefined);
    assert.equal(await enrollment('A123456789,12345678,示範股份有限公司,yes'), 'insured: "yes" must be 1 or 0');
    assert.equal(await enrollment('A123456789,1234567,示範股份有限公司,1'), 'unit_code: "1234567" must be exactly 8 digits');
    assert.equal(await enrollment('A123456789,12345678, 示範,0'), 'unit_name: begins or ends with a space');
  });
});
