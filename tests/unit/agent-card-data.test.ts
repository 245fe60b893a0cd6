import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  CardDataError,
  encodeBasicData,
  isoToRoc,
  parseBasicData,
  parseReadResponse,
  rocToIso,
  type CardData,
} from '../../src/agent/index.js';

interface Fixture {
  description: string;
  fields: Record<'number' | 'name' | 'idNumber' | 'birthDate' | 'sex' | 'issuedOn', string>;
  sw: string;
  expected: CardData;
}

const dir = new URL('../fixtures/cards/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, ...(JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Fixture) }));
const fixture = (file: string) => fixtures.find((f) => f.file === file)!;
const dataOf = (f: Fixture) =>
  Buffer.from(
    [f.fields.number, f.fields.name, f.fields.idNumber, f.fields.birthDate, f.fields.sex, f.fields.issuedOn].join(''),
    'hex',
  );
const responseOf = (f: Fixture) => Buffer.concat([dataOf(f), Buffer.from(f.sw, 'hex')]);

/** The Wang fixture's data bytes with `bytes` written at `offset`. */
function patched(offset: number, bytes: number[] | string): Buffer {
  const data = dataOf(fixture('wang-xiao-ming.json'));
  Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).copy(data, offset);
  return data;
}

test('fixtures are 57-byte replies', () => {
  assert.ok(fixtures.length >= 5);
  for (const f of fixtures) assert.equal(dataOf(f).length, 57, f.file);
});

for (const f of fixtures) {
  test(`parses fixture ${f.file}: ${f.description}`, () => {
    assert.deepEqual(parseReadResponse(responseOf(f)), f.expected);
    assert.deepEqual(parseBasicData(dataOf(f)), f.expected);
  });
}

test('a rare Big5-HKSCS character (堃, FB69) survives decoding', () => {
  assert.equal(parseBasicData(dataOf(fixture('lin-kun-hkscs.json'))).name, '林堃');
});

test('pre-1912 dates: ROC 000 is 1911, negative years count back from it', () => {
  assert.equal(parseBasicData(dataOf(fixture('huang-miao-roc-000.json'))).birthDate, '1911-12-31');
  assert.equal(parseBasicData(dataOf(fixture('chen-ji-pre-roc.json'))).birthDate, '1910-03-05');
  assert.equal(rocToIso('0010101'), '1912-01-01');
  assert.equal(rocToIso('-990101'), '1812-01-01');
  assert.equal(isoToRoc('1911-12-31'), '0001231');
  assert.equal(isoToRoc('1910-03-05'), '-010305');
  assert.equal(isoToRoc('1980-01-31'), '0690131');
  assert.throws(() => isoToRoc('1811-12-31'), CardDataError);
});

test('rejects dates that are not on the calendar', () => {
  assert.throws(() => rocToIso('0000229'), /no such date/); // 1911 was not a leap year
  assert.equal(rocToIso('0010229'), '1912-02-29');
  assert.throws(() => rocToIso('1130230'), /no such date/);
  assert.throws(() => rocToIso('1131301'), /no such date/);
  assert.throws(() => rocToIso('1130100'), /no such date/);
  assert.throws(() => rocToIso('11301 1'), /malformed/);
  assert.throws(() => rocToIso('1-30101'), /malformed/);
});

test('rejects status words other than 90 00, naming them', () => {
  const data = dataOf(fixture('wang-xiao-ming.json'));
  for (const [sw, text] of [
    [[0x6a, 0x82], /6A 82/],
    [[0x69, 0x82], /69 82/],
    [[0x6d, 0x00], /6D 00/],
    [[0x90, 0x01], /90 01/],
  ] as const) {
    assert.throws(() => parseReadResponse(Buffer.concat([data, Buffer.from(sw)])), (e: Error) => e instanceof CardDataError && text.test(e.message));
  }
  assert.throws(() => parseReadResponse(Buffer.from([0x6a, 0x82])), /6A 82/);
  assert.throws(() => parseReadResponse(Buffer.from([0x90])), CardDataError);
});

test('rejects replies that are not exactly 57 bytes', () => {
  const data = dataOf(fixture('wang-xiao-ming.json'));
  const ok = Buffer.from([0x90, 0x00]);
  assert.throws(() => parseReadResponse(Buffer.concat([data.subarray(0, 56), ok])), /56 bytes/);
  assert.throws(() => parseReadResponse(Buffer.concat([data, Buffer.from([0]), ok])), /58 bytes/);
  assert.throws(() => parseReadResponse(ok), /0 bytes/);
  assert.throws(() => parseBasicData(new Uint8Array(0)), CardDataError);
});

test('rejects malformed fields', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['letter in card number', patched(3, 'X'), /card number/],
    ['lower-case ID', patched(32, 'a'), /ID number/],
    ['ID with letter in the digits', patched(40, 'Z'), /ID number/],
    ['digit first in ID', patched(32, '1'), /ID number/],
    ['sex X', patched(49, 'X'), /sex/],
    ['sex as 1', patched(49, '1'), /sex/],
    ['birth date 30 Feb', patched(42, '1130230'), /date/],
    ['birth month 13', patched(42, '0691301'), /date/],
    ['issue date with space', patched(50, '104 601'), /date/],
    ['name not Big5', patched(12, [0xff, 0xff, 0x00]), /Big5/],
    ['name empty', patched(12, new Array(20).fill(0)), /empty/],
    ['name with control character', patched(12, [0xa4, 0xfd, 0x01, 0x00]), /Big5/],
  ];
  for (const [what, data, reason] of cases) {
    assert.throws(() => parseBasicData(data), (e: Error) => e instanceof CardDataError && reason.test(e.message), what);
  }
});

test('encodeBasicData writes the same bytes a real card holds', () => {
  for (const f of fixtures) {
    assert.deepEqual(Buffer.from(encodeBasicData(f.expected)), dataOf(f), f.file);
  }
});

test('encodeBasicData refuses what a card cannot hold', () => {
  const card = fixture('wang-xiao-ming.json').expected;
  assert.throws(() => encodeBasicData({ ...card, name: '王\u{1F600}' }), /Big5/);
  assert.throws(() => encodeBasicData({ ...card, name: '王小明王小明王小明王小明王' }), /at most 20/);
  assert.throws(() => encodeBasicData({ ...card, birthDate: '1980-02-30' }), CardDataError);
  assert.throws(() => encodeBasicData({ ...card, number: '12345' }), /card number/);
});
