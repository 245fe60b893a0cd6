import assert from 'node:assert/strict';
import { linkTokenHash } from '../../src/platform/tokens/index.js';
import type { RegistrationState } from '../../src/modules/registration/index.js';
import { registrations } from '../../src/modules/registration/repository.js';
import type { TestApp } from './app.js';
import { BrowserAgent, type Page } from './browser-agent.js';
import { insertTestCard, readInto, SERVER_ORIGIN, type TestAgent, type TestCard } from './card-reads.js';
import { readCardHere } from './flows.js';
import { startAppWithAgent, type AppWithAgent } from './site.js';

export { linkIn, readCardHere } from './flows.js';
import { TestSmtpServer, type CaughtMail } from './smtp.js';

export interface LoginSite {
  t: TestApp;
  agent: TestAgent;
  smtp: TestSmtpServer;
  close(): Promise<void>;
}

/**
 * The real app, the real agent (simulated reader) and a real SMTP server; the clock starts at the real time (the
 * agent stamps reads with it). The per-address limits are raised: these tests make many logins from one address.
 */
export async function startLoginSite(env: Record<string, string> = {}): Promise<LoginSite> {
  const smtp = new TestSmtpServer();
  await smtp.start(0);
  const site = await startAppWithAgent(SERVER_ORIGIN, {
    env: { SMTP_URL: smtp.url, ...env },
    rateLimits: { login: { points: 1000, durationSeconds: 60 }, accountSteps: { points: 1000, durationSeconds: 60 } },
  });
  return {
    ...site,
    smtp,
    async close() {
      await site.close();
      await smtp.stop();
    },
  };
}

export const PASSWORD = 'Taipei#2026';

export interface Registered {
  card: TestCard;
  email: string;
  password: string;
}

/**
 * A confirmed (active) registration made through the registration module's API: apply, then confirm with the
 * link of the mail in the outbox, as the person's card would.
 */
export async function registerActive(site: LoginSite, options: { email?: string; mobile?: string; state?: RegistrationState } = {}): Promise<Registered> {
  const { services } = site.t;
  const card = await insertTestCard(services);
  const email = options.email ?? `p${card.sim.idNumber.toLowerCase()}@example.com.tw`;
  const registration = services.api.registration.service;
  const applied = await registration.apply({
    identity: { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate },
    password: PASSWORD,
    contacts: { email, mobile: options.mobile ?? '0912345678' },
    locale: 'zh-TW',
    clientAddress: '127.0.0.1',
  });
  assert.equal(applied, 'applied');
  if (options.state === 'pending') return { card, email, password: PASSWORD };
  const [row] = await services.orm.em.fork().getConnection().execute<{ payload: { linkPath: string } }[]>(
    `select payload from outbox_message where template = 'registration-confirmation' and recipient = ? order by created_at desc limit 1`,
    [email],
  );
  const token = new URL(row!.payload.linkPath, SERVER_ORIGIN).searchParams.get('token')!;
  const readCard = { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, readAt: new Date().toISOString() };
  assert.equal(await registration.confirm(linkTokenHash(token), readCard, { clientAddress: '127.0.0.1' }), 'confirmed');
  if (options.state && options.state !== 'active') await setRegistrationState(site, card.sim.idNumber, options.state);
  return { card, email, password: PASSWORD };
}

/**
 * Suspension comes with the counter, and deletion takes an e-mailed code: tests that need only the state set it
 * through the registration's own repository, as those flows do.
 */
export async function setRegistrationState(site: LoginSite, idNumber: string, state: RegistrationState): Promise<void> {
  const em = site.t.services.orm.em.fork();
  await em.transactional(async (tx) => {
    assert.ok(await registrations.setState(tx, idNumber, 'active', state, site.t.clock.now()));
  });
}

/** The home page: read the card, type the password, 登入 (no JS). Returns the page the browser ends on. */
export async function logIn(site: AppWithAgent, browser: BrowserAgent, card: TestCard, password: string): Promise<Page> {
  const home = await browser.get('/');
  // A card read earlier in this session (e.g. before a wrong password) is still on the panel.
  if (home.$('#card-panel-login form.card-read-form').length) await readCardHere(site, browser, card, 'login');
  return browser.submit({ password }, 'form.login-form');
}

/** Delivers the outbox and returns every mail that reached `to`. */
export async function mailsTo(site: LoginSite, to: string): Promise<CaughtMail[]> {
  await site.t.services.mailWorker.runOnce();
  return site.smtp.messages.filter((m) => m.to.includes(to));
}

/** Every audit row, as text, for "no secret in the audit table" checks. */
export async function auditRows(site: LoginSite): Promise<Record<string, unknown>[]> {
  return site.t.services.orm.em.fork().getConnection().execute(`select * from audit_event order by id`);
}

/** The home page's login with the card read signed as the agent signs it (no agent process): the page it ends on. */
export async function tryLogIn(t: TestApp, card: TestCard, password: string): Promise<{ browser: BrowserAgent; page: Page }> {
  const browser = new BrowserAgent(t.app);
  await browser.get('/');
  await readInto(t, browser, card, 'login');
  return { browser, page: await browser.submit({ password }, 'form.login-form') };
}

/** tryLogIn that must succeed: the browser is then on /account. */
export async function citizenLogIn(t: TestApp, card: TestCard, password = PASSWORD): Promise<BrowserAgent> {
  const { browser, page } = await tryLogIn(t, card, password);
  assert.equal(page.url, '/account', page.$('.error-summary').text());
  return browser;
}
