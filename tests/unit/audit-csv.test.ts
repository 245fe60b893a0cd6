import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, csvLine, formatPosition, parsePosition } from '../../src/platform/audit/index.js';
import { nextTaipeiDay, parseTaipeiTime, taipeiCompactDate, taipeiDayStart, taipeiTimeText } from '../../src/platform/i18n/index.js';

describe('audit export CSV cells', () => {
  test('every cell is quoted, and quotes inside are doubled', () => {
    assert.equal(csvCell('plain'), '"plain"');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\r\nlines'), '"two\r\nlines"');
    assert.equal(csvCell(null), '""');
    assert.equal(csvCell(42), '"42"');
  });

  test('text Excel would run as a formula gets a leading apostrophe', () => {
    assert.equal(csvCell("=cmd|' /C calc'!A0"), `"'=cmd|' /C calc'!A0"`);
    assert.equal(csvCell('+1'), `"'+1"`);
    assert.equal(csvCell('-1'), `"'-1"`);
    assert.equal(csvCell('@SUM(1)'), `"'@SUM(1)"`);
    assert.equal(csvCell('\tx'), `"'\tx"`);
    assert.equal(csvCell('\rx'), `"'\rx"`);
    assert.equal(csvCell('=A1+"x"'), `"'=A1+""x"""`, 'quoted as well as neutralised');
  });

  test('text that only contains those characters later is left alone', () => {
    assert.equal(csvCell('a=b'), '"a=b"');
    assert.equal(csvCell('staff.login'), '"staff.login"');
    assert.equal(csvCell("it's"), `"it's"`);
  });

  test('a line is its cells joined by commas, ending CRLF', () => {
    assert.equal(csvLine(['a', 'b,c', null]), '"a","b,c",""\r\n');
  });
});

describe('audit search dates and positions', () => {
  test('a day is a Taipei day: it starts at 16:00 UTC the day before', () => {
    assert.equal(taipeiDayStart('2026-01-15')!.toISOString(), '2026-01-14T16:00:00.000Z');
    assert.equal(nextTaipeiDay(taipeiDayStart('2026-01-15')!).toISOString(), '2026-01-15T16:00:00.000Z');
  });

  test('malformed or impossible dates are refused', () => {
    for (const text of ['2026-1-15', '2026/01/15', '2026-02-30', '2026-13-01', '115-01-15', 'yesterday', '2026-01-15T00:00']) {
      assert.equal(taipeiDayStart(text), null, text);
    }
    assert.ok(taipeiDayStart('2024-02-29'), 'a leap day exists');
  });

  test('a Taipei time typed to the minute is the moment it names, and reads back as typed', () => {
    const at = parseTaipeiTime('2026/3/2 08:05');
    assert.equal(at?.toISOString(), '2026-03-02T00:05:00.000Z');
    assert.equal(taipeiTimeText(at!), '2026-03-02 08:05');
    for (const bad of ['2026-02-30 10:00', '2026-03-02 24:00', '2026-03-02', '115-03-02 10:00']) assert.equal(parseTaipeiTime(bad), null, bad);
  });

  test('file names carry the Taipei date', () => {
    assert.equal(taipeiCompactDate(new Date('2026-03-01T16:30:00Z')), '20260302');
  });

  test('a page position survives the URL, and nonsense is no position', () => {
    const position = { occurredAt: new Date('2026-03-02T04:00:00.123Z'), id: 77 };
    assert.deepEqual(parsePosition(formatPosition(position)), position);
    assert.equal(parsePosition('abc'), null);
    assert.equal(parsePosition('1.2.3'), null);
  });
});
