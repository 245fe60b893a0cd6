import type { Locale } from './types.js';

const TZ = 'Asia/Taipei';

// Built once: constructing an Intl.DateTimeFormat costs far more than using one.
const taipei = new Intl.DateTimeFormat('en-GB', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function parts(date: Date): Record<string, string> {
  return Object.fromEntries(taipei.formatToParts(date).map((p) => [p.type, p.value]));
}

/** 民國109年10月27日 in zh-TW, 2020-10-27 in en; always Asia/Taipei. */
export function formatDate(date: Date, locale: Locale): string {
  const p = parts(date);
  if (locale === 'zh-TW') return `民國${Number(p.year) - 1911}年${Number(p.month)}月${Number(p.day)}日`;
  return `${p.year}-${p.month}-${p.day}`;
}

/** 民國109年10月27日 16:46:50 in zh-TW, 2020-10-27 16:46:50 in en; always Asia/Taipei. */
export function formatDateTime(date: Date, locale: Locale): string {
  const p = parts(date);
  return `${formatDate(date, locale)} ${p.hour}:${p.minute}:${p.second}`;
}

/** Minutes since midnight in Asia/Taipei. */
export function taipeiMinutes(date: Date): number {
  const p = parts(date);
  return Number(p.hour) * 60 + Number(p.minute);
}

// Wall-clock Taipei times as people type and read them (Asia/Taipei is UTC+8 all year, no daylight saving).
export const TAIPEI_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/** The start of a Taipei calendar day (Asia/Taipei is UTC+8 all year) given as YYYY-MM-DD; null for anything else. */
export function taipeiDayStart(text: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = Date.UTC(year, month - 1, day);
  const check = new Date(utc);
  // Date.UTC rolls 2026-02-30 over into March: a day that does not exist is refused.
  if (year < 1900 || check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return new Date(utc - TAIPEI_OFFSET_MS);
}

/** The start of the Taipei day after `dayStart` (a to-day is inclusive, so the range ends there). */
export function nextTaipeiDay(dayStart: Date): Date {
  return new Date(dayStart.getTime() + DAY_MS);
}

/** A Taipei wall-clock time, `2026-03-02 12:00:00`: what the CSV shows (Excel reads it as a date and time). */
export function taipeiTimestamp(date: Date): string {
  return new Date(date.getTime() + TAIPEI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** `20260302`: the Taipei date for file names. */
export function taipeiCompactDate(date: Date): string {
  return taipeiTimestamp(date).slice(0, 10).replaceAll('-', '');
}

/** Taipei local time as staff type it: 2026-03-02 14:30 or 2026/03/02 14:30 (a datetime-local value too). */
const TAIPEI_TIME = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+|T)(\d{1,2}):(\d{2})$/;

/** A Taipei local time to the minute as the moment it names, or null if it is no real time. */
export function parseTaipeiTime(text: string): Date | null {
  const match = TAIPEI_TIME.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  if (year < 2000 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59) return null;
  // Date.UTC rolls 2026-02-30 over into March: a day it moved is a day that does not exist.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return null;
  return new Date(Date.UTC(year, month - 1, day, hour, minute) - TAIPEI_OFFSET_MS);
}

/** The moment as a staff member types it: Taipei local time, to the minute. */
export function taipeiTimeText(date: Date): string {
  return taipeiTimestamp(date).slice(0, 16);
}
