import { parseCookie } from 'cookie';
import type { RequestHandler } from 'express';
import { platformMessages } from './messages.js';

import { DEFAULT_LOCALE, LOCALES, type Catalogue, type Locale, type Messages, type Translate } from './types.js';

export { LOCALES, DEFAULT_LOCALE, type Locale, type Catalogue, type Messages, type Translate } from './types.js';
export const LANG_COOKIE = 'lang';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The message catalogues of the platform and of every module, merged per locale. */
export class I18n {
  private readonly catalogues: Record<Locale, Catalogue> = { 'zh-TW': {}, en: {} };

  constructor(...sources: Messages[]) {
    for (const source of [platformMessages, ...sources]) this.add(source);
  }

  add(messages: Messages): void {
    for (const locale of LOCALES) Object.assign(this.catalogues[locale], messages[locale]);
  }

  has(locale: Locale, key: string): boolean {
    return key in this.catalogues[locale];
  }

  translator(locale: Locale): Translate {
    const catalogue = this.catalogues[locale];
    const fallback = this.catalogues[DEFAULT_LOCALE];
    return (key, params) => {
      const template = catalogue[key] ?? fallback[key] ?? key;
      if (!params) return template;
      return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
    };
  }
}

/**
 * Picks the page language: `?lang=` (a plain link, so the switch works without JS and without a form)
 * is remembered in a cookie; otherwise the cookie; otherwise zh-TW.
 */
export function localeMiddleware(i18n: I18n, secureCookies: boolean): RequestHandler {
  return (req, res, next) => {
    const asked = req.query.lang;
    let locale: Locale = DEFAULT_LOCALE;
    if (isLocale(asked)) {
      locale = asked;
      res.cookie(LANG_COOKIE, asked, {
        maxAge: 365 * 24 * 3600 * 1000,
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookies,
        path: '/',
      });
    } else {
      const fromCookie = req.headers.cookie ? parseCookie(req.headers.cookie)[LANG_COOKIE] : undefined;
      if (isLocale(fromCookie)) locale = fromCookie;
    }
    res.locals.locale = locale;
    res.locals.t = i18n.translator(locale);
    next();
  };
}

export { formatDate, formatDateTime, nextTaipeiDay, parseTaipeiTime, taipeiCompactDate, taipeiDayStart, taipeiTimestamp, taipeiTimeText } from './dates.js';
