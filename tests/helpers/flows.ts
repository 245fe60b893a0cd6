import assert from 'node:assert/strict';
import type { BrowserAgent, Page } from './browser-agent.js';
import { postBack, readAtAgent, readFormOf, SERVER_ORIGIN, type TestCard } from './card-reads.js';
import type { AppWithAgent } from './site.js';
import type { TestSmtpServer } from './smtp.js';

/**
 * The person puts the card in the reader and presses 讀取 on the current page's panel for `purpose`: the read goes
 * through the real agent, back to the server, and the browser follows the claim back to the page.
 */
export async function readCardHere(site: AppWithAgent, browser: BrowserAgent, card: TestCard, purpose: string): Promise<Page> {
  if (!browser.page) throw new Error('no page loaded');
  await site.agent.insert(card.sim);
  const answer = await readAtAgent(readFormOf(browser.page, purpose));
  assert.equal(answer.status, 200, answer.html);
  const back = await postBack(site.t.app, answer);
  assert.equal(back.status, 303, back.text);
  return browser.get(back.headers.location!);
}

/** What a person types on the registration form (the test card's household data by default). */
export interface Application {
  householdNumber?: string;
  county?: string;
  township?: string;
  village?: string;
  neighborhood?: string;
  password?: string;
  email?: string;
  mobile?: string;
}

/** The test card's household registration (tests/helpers/card-reads.ts insertTestCard). */
export const TEST_HOUSEHOLD = { householdNumber: 'F1234567', county: '63000', township: '63000010', village: '63000010002', neighborhood: '1' };

/** 我已閱讀完畢，並瞭解相關規定 and the card read: the identity step's page, ready for 戶號 and the address. */
export async function startApplication(site: AppWithAgent, browser: BrowserAgent, card: TestCard, path = '/register'): Promise<Page> {
  await browser.get(path);
  await browser.submit({}, 'form[action="/register/terms"]');
  return readCardHere(site, browser, card, 'register');
}

/** Terms → card → 戶號 and address → password and contacts → 確認申請, with JavaScript off. Returns the last page. */
export async function applyOnline(site: AppWithAgent, browser: BrowserAgent, card: TestCard, application: Application = {}): Promise<Page> {
  await startApplication(site, browser, card);
  const identity = { ...TEST_HOUSEHOLD, ...application };
  const credentials = await browser.submit(
    { householdNumber: identity.householdNumber, county: identity.county, township: identity.township, village: identity.village, neighborhood: identity.neighborhood },
    'form[action="/register/identity"]',
  );
  if (!credentials.url.startsWith('/register/credentials')) return credentials;
  const password = application.password ?? 'Taipei#2026';
  return browser.submit(
    { password, passwordConfirm: password, mobile: application.mobile ?? '0912345678', email: application.email ?? 'person@example.com.tw' },
    'form[action="/register/credentials"]',
  );
}

/** Delivers the outbox and returns the newest mail to `to` whose subject matches. */
export async function mailTo(site: AppWithAgent, smtp: TestSmtpServer, to: string, subject: RegExp) {
  await site.t.services.mailWorker.runOnce();
  const mail = [...smtp.messages].reverse().find((m) => m.to.includes(to) && subject.test(m.subject));
  assert.ok(mail, `no mail to ${to} matching ${subject}; got ${smtp.messages.map((m) => `${m.to}: ${m.subject}`).join(' | ')}`);
  return mail;
}

/** The path of the first link to this site in a mail's text. */
export function linkIn(text: string, origin = SERVER_ORIGIN): string {
  const match = new RegExp(`${origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/[^\\s]+)`).exec(text);
  assert.ok(match, `no link to ${origin} in: ${text}`);
  return match[1]!;
}
