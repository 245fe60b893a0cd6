// The locale and catalogue types, apart from index.ts so that messages.ts and dates.ts need not import it back.
export const LOCALES = ['zh-TW', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-TW';

export type Catalogue = Record<string, string>;
export type Messages = Record<Locale, Catalogue>;
export type Translate = (key: string, params?: Record<string, string | number>) => string;
