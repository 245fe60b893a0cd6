import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  householdNumberError,
  idCheckDigit,
  idNumberError,
  idNumberKind,
  isValidIdNumber,
  neighborhoodError,
  sexOfIdNumber,
} from '../../src/modules/household/index.js';
import { cardNumberError, cardsFile, publicKeyError } from '../../src/modules/cards/index.js';
import { unitCodeError } from '../../src/modules/employers/index.js';
import { headerError, isoDateError, taipeiDate, textError } from '../../src/platform/registry-import/index.js';

// Weights 1,9,8,7,6,5,4,3,2,1,1 over: the letter's two digits, the second character's value, the 8 digits.
describe('national ID check digit', () => {
  test('accepts numbers whose weighted sum is a multiple of 10', () => {
    // A=10: 1·1 + 0·9 + 1·8 + 2·7 + 3·6 + 4·5 + 5·4 + 6·3 + 7·2 + 8·1 + 9·1 = 130
    assert.equal(idNumberError('A123456789'), undefined);
    // Z=33: 3·1 + 3·9 + 1·8 + 0… + 2·1 = 40
    assert.equal(idNumberError('Z100000002'), undefined);
    // I=34 (out of alphabetical order): 3 + 4·9 + 2·8 + 5 = 60
    assert.equal(idNumberError('I200000005'), undefined);
    // O=35: 3 + 5·9 + 1·8 + 4 = 60
    assert.equal(idNumberError('O100000004'), undefined);
    assert.equal(idNumberKind('A123456789'), 'national');
    assert.equal(sexOfIdNumber('A123456789'), 'M');
    assert.equal(sexOfIdNumber('I200000005'), 'F');
  });

  test('rejects a wrong check digit and malformed numbers, saying why', () => {
    assert.equal(idNumberError('A123456788'), 'wrong check digit'); // sum 129
    assert.equal(idNumberError('I200000004'), 'wrong check digit'); // 3 + 36 + 16 + 4 = 59
    assert.match(idNumberError('A323456789')!, /second character must be 1 or 2/);
    assert.match(idNumberError('a123456789')!, /uppercase letter/);
    assert.match(idNumberError('A12345678')!, /10 characters \(found 9\)/);
    assert.match(idNumberError('A1234567X9')!, /digits/);
    assert.equal(isValidIdNumber('A123456789 '), false);
  });

  test('idCheckDigit completes a prefix', () => {
    assert.equal(idCheckDigit('A12345678'), '9');
    assert.equal(idCheckDigit('FA1234568'), '9');
    assert.equal(idCheckDigit('A80000001'), '4');
  });
});

describe('resident certificate numbers', () => {
  test('new format (from 2021): second character 8 or 9, same check as the national ID', () => {
    // A=10: 1 + 0 + 8·8 + 0·7 … + 1·1 + 4·1 = 70
    assert.equal(idNumberError('A800000014'), undefined);
    // 1 + 0 + 9·8 + 7 = 80
    assert.equal(idNumberError('A900000007'), undefined);
    // 1 + 64 + 1·7 + 2·6 + 3·5 + 4·4 + 5·3 + 6·2 + 7·1 + 1·1 = 150
    assert.equal(idNumberError('A812345671'), undefined);
    assert.equal(idNumberError('A800000015'), 'wrong check digit');
    assert.equal(idNumberKind('A800000014'), 'resident-new');
    assert.equal(sexOfIdNumber('A900000007'), 'F');
  });

  test('old format: second letter A–D counts with the last digit of its code (A→0, B→1, C→2, D→3)', () => {
    // The Ministry of the Interior's example. F=15, A=10→0: 1 + 5·9 + 0·8 + 1·7 + 2·6 + 3·5 + 4·4 + 5·3 + 6·2 + 8 + 9 = 140
    assert.equal(idNumberError('FA12345689'), undefined);
    // A=10, C=12→2: 1 + 0 + 2·8 + 0·7 + 1·6 + 2·5 + 3·4 + 4·3 + 5·2 + 6 + 7 = 80
    assert.equal(idNumberError('AC01234567'), undefined);
    // A=10, B=11→1: 1 + 0 + 1·8 + 0·7 + 1·6 + 2·5 + 3·4 + 4·3 + 5·2 + 6 + x = 65 + x → x = 5
    assert.equal(idNumberError('AB01234565'), undefined);
    assert.equal(idNumberError('FA12345688'), 'wrong check digit'); // 139
    assert.equal(idNumberError('AB12345678'), 'wrong check digit'); // 1 + 8 + 7+12+15+16+15+12+7+8 = 101
    assert.match(idNumberError('AE12345678')!, /A–D \(old resident certificate\)/);
    assert.equal(idNumberKind('FA12345689'), 'resident-old');
    assert.equal(sexOfIdNumber('FA12345689'), 'M');
    assert.equal(sexOfIdNumber('AD00000000'), 'F');
  });
});

describe('card, household, neighbourhood and unit rules', () => {
  test('card number: exactly 12 digits', () => {
    assert.equal(cardNumberError('000012345678'), undefined);
    assert.match(cardNumberError('00001234567')!, /exactly 12 digits/);
    assert.match(cardNumberError('0000123456789')!, /exactly 12 digits/);
    assert.match(cardNumberError('00001234567A')!, /exactly 12 digits/);
  });

  test('household number: 8 uppercase letters or digits', () => {
    assert.equal(householdNumberError('F1234567'), undefined);
    assert.equal(householdNumberError('12345678'), undefined);
    assert.match(householdNumberError('f1234567')!, /uppercase letters/);
    assert.match(householdNumberError('F123456')!, /8 characters \(found 7\)/);
    assert.match(householdNumberError('F12345678')!, /8 characters/);
    assert.match(householdNumberError('F123456-')!, /uppercase letters A–Z and digits/);
  });

  test('neighbourhood: 1 to 999', () => {
    for (const ok of ['1', '999', '007']) assert.equal(neighborhoodError(ok), undefined, ok);
    for (const bad of ['0', '1000', '-1', '1.5', '', ' 1']) assert.match(neighborhoodError(bad)!, /1 to 999/, bad);
  });

  test('unit code: exactly 8 digits', () => {
    assert.equal(unitCodeError('12345678'), undefined);
    assert.match(unitCodeError('1234567')!, /8 digits/);
    assert.match(unitCodeError('1234567A')!, /8 digits/);
  });

  test('public key: canonical base64url of 32 bytes', () => {
    const key = Buffer.alloc(32, 7).toString('base64url');
    assert.equal(key.length, 43);
    assert.equal(publicKeyError(key), undefined);
    assert.ok(publicKeyError(`${key}=`));
    assert.ok(publicKeyError(Buffer.alloc(31, 7).toString('base64url')));
    // The last character carries 4 bits of the key and 2 spare bits; spare bits set = not the encoding of any key.
    assert.ok(publicKeyError(`${key.slice(0, 42)}${key[42] === 'c' ? 'd' : 'D'}`));
  });
});

describe('dates', () => {
  const today = '2026-03-02';
  test('real calendar dates only', () => {
    assert.equal(isoDateError('2024-02-29', today), undefined); // leap year
    assert.match(isoDateError('2023-02-29', today)!, /not a real calendar date/);
    assert.match(isoDateError('2023-02-30', today)!, /not a real calendar date/);
    assert.match(isoDateError('1900-02-29', today)!, /not a real calendar date/); // century, not a leap year
    assert.equal(isoDateError('2000-02-29', today), undefined); // divisible by 400
    assert.match(isoDateError('2023-13-01', today)!, /not a real calendar date/);
    assert.match(isoDateError('2023-04-31', today)!, /not a real calendar date/);
    assert.match(isoDateError('2023-1-01', today)!, /YYYY-MM-DD/);
    assert.match(isoDateError('20230101', today)!, /YYYY-MM-DD/);
  });

  test('not before 1880, not after today', () => {
    assert.equal(isoDateError('1880-01-01', today), undefined);
    assert.match(isoDateError('1879-12-31', today)!, /before 1880-01-01/);
    assert.equal(isoDateError(today, today), undefined);
    assert.match(isoDateError('2026-03-03', today)!, /in the future/);
  });

  test('today is the date in Taipei', () => {
    assert.equal(taipeiDate(new Date('2026-03-01T15:59:59Z')), '2026-03-01');
    assert.equal(taipeiDate(new Date('2026-03-01T16:00:00Z')), '2026-03-02');
  });
});

describe('text fields', () => {
  test('names: 1–40 characters, no control characters', () => {
    assert.equal(textError('王小明', 40), undefined);
    assert.equal(textError('𡘙'.repeat(40), 40), undefined); // characters, not UTF-16 units
    assert.match(textError('王'.repeat(41), 40)!, /longer than 40 characters \(41\)/);
    assert.match(textError('', 40)!, /empty/);
    assert.match(textError('王\u0007明', 40)!, /control character/);
    assert.match(textError('王\u0085明', 40)!, /control character/);
    assert.match(textError(' 王小明', 40)!, /space/);
    assert.match(textError('王\uFFFD明', 40)!, /not UTF-8/);
  });
});

describe('registry files', () => {
  test('the header must name the columns exactly, in order', () => {
    const columns = cardsFile.columns;
    assert.deepEqual(columns, ['card_number', 'id_number', 'issued_on', 'status', 'public_key']);
    assert.equal(headerError(columns, columns), undefined);
    assert.match(headerError(['card_number', 'id_number', 'issued_on', 'status'], columns)!, /header must be "card_number,id_number,issued_on,status,public_key"/);
    assert.ok(headerError(['card_number', 'id_number', 'status', 'issued_on', 'public_key'], columns));
    assert.ok(headerError(['Card_Number', 'id_number', 'issued_on', 'status', 'public_key'], columns));
    assert.ok(headerError([...columns, ''], columns));
  });
});
