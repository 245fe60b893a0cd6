/** Birth dates as clerks type them: ROC (民國) `yyyMMdd`, `yyMMdd`, `yyy/M/d`, or ISO `YYYY-MM-DD` / `YYYY/M/D`. */

const ROC_YEAR_OFFSET = 1911;
const ROC_COMPACT = /^(\d{2,3})(\d{2})(\d{2})$/;
const ROC_SEPARATED = /^(\d{1,3})([-/.])(\d{1,2})\2(\d{1,2})$/;
const ISO = /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isoDate(year: number, month: number, day: number): string | null {
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** ROC or ISO birth date → ISO 'YYYY-MM-DD', or null when not a real date. */
export function parseBirthDate(text: string): string | null {
  // NFKC: an IME's full-width digits and slashes (０６９／０１／３１) become ASCII.
  const value = text.normalize('NFKC').trim();
  let match = ISO.exec(value);
  if (match) return isoDate(Number(match[1]), Number(match[3]), Number(match[4]));
  match = ROC_SEPARATED.exec(value);
  if (match) return rocDate(Number(match[1]), Number(match[3]), Number(match[4]));
  match = ROC_COMPACT.exec(value);
  if (match) return rocDate(Number(match[1]), Number(match[2]), Number(match[3]));
  return null;
}

function rocDate(rocYear: number, month: number, day: number): string | null {
  return rocYear < 1 ? null : isoDate(rocYear + ROC_YEAR_OFFSET, month, day);
}
