/**
 * Field rules shared by the registry files. Each returns `undefined` when the value is acceptable, else the
 * reason in words an operator can act on.
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
/** Nothing in the registries predates the household registration system. */
export const EARLIEST_DATE = '1880-01-01';

/** Today's date in Taiwan (UTC+8, no daylight saving) as YYYY-MM-DD. */
export function taipeiDate(now: Date): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** A real calendar date written YYYY-MM-DD, between EARLIEST_DATE and `today` (both included). */
export function isoDateError(value: string, today: string): string | undefined {
  if (!ISO_DATE.test(value)) return `"${value}" is not a date written YYYY-MM-DD`;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const monthDays = month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1];
  if (monthDays === undefined || day < 1 || day > monthDays) return `${value} is not a real calendar date`;
  if (value < EARLIEST_DATE) return `${value} is before ${EARLIEST_DATE}`;
  if (value > today) return `${value} is in the future`;
  return undefined;
}

// Control characters (C0, DEL, C1), and U+FFFD, which is what bytes that are not UTF-8 decode to.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const NOT_UTF8 = /\uFFFD/u;

/** Free text such as a name: 1..max characters (code points), no control characters, no surrounding spaces. */
export function textError(value: string, max: number): string | undefined {
  if (NOT_UTF8.test(value)) return 'contains bytes that are not UTF-8 (save the file as UTF-8)';
  if (CONTROL.test(value)) return 'contains a control character';
  if (value.trim() === '') return 'is empty';
  if (value.trim() !== value) return 'begins or ends with a space';
  let length = 0;
  for (const _ of value) length++;
  if (length > max) return `is longer than ${max} characters (${length})`;
  return undefined;
}
