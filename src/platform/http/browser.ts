import Bowser from 'bowser';

export interface BrowserInfo {
  browser: string | null;
  os: string | null;
  /** Grade A (current browsers) or B (IE11, Edge in IE mode) per ARCHITECTURE.md; C still works but is not "supported". */
  grade: 'A' | 'B' | 'C';
  supported: boolean;
}

const GRADE_A: Record<string, string> = {
  chrome: '>=80',
  chromium: '>=80',
  edge: '>=80',
  firefox: '>=78',
  safari: '>=13',
  opera: '>=67',
  samsung_internet: '>=12',
};

/** What the home and environment-check pages print about the visitor's browser, from the User-Agent alone. */
export function detectBrowser(userAgent: string | undefined): BrowserInfo {
  if (!userAgent) return { browser: null, os: null, grade: 'C', supported: false };
  const parser = Bowser.getParser(userAgent);
  const b = parser.getBrowser();
  const o = parser.getOS();
  const browser = b.name ? `${b.name}${b.version ? ` ${b.version}` : ''}` : null;
  const os = o.name ? `${o.name}${o.versionName ? ` ${o.versionName}` : o.version ? ` ${o.version}` : ''}` : null;
  let grade: BrowserInfo['grade'] = 'C';
  if (parser.satisfies(GRADE_A)) grade = 'A';
  else if (parser.satisfies({ ie: '>=11' }) && !/MSIE [0-9]\./.test(userAgent)) grade = 'B';
  return { browser, os, grade, supported: grade !== 'C' };
}
