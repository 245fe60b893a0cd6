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
