import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { cardKeyPairFromSeed, generateSeed, signCardAssertion } from '../../src/agent/index.js';
import type { TestApp } from './app.js';
import type { BrowserAgent, Page } from './browser-agent.js';
import { readFormOf, SERVER_ORIGIN, type TestCard } from './card-reads.js';

/** A counter PC enrolled by an administrator: its id and the key its agent signs with. */
export interface TestTerminal {
  terminalId: string;
  seed: Buffer;
}

export async function enrolTerminal(t: TestApp, label = '臨櫃 1 號'): Promise<TestTerminal> {
  const seed = generateSeed();
  const terminalId = `T-${randomBytes(4).toString('hex')}`;
  await t.services.readerTerminals.enroll({ terminalId, publicKey: cardKeyPairFromSeed(seed).publicKey, label });
  return { terminalId, seed };
}

/**
 * The card read of the panel for `purpose` on the browser's page, signed as the agent signs it: with the card's own key,
 * or with a counter terminal's key (a real card through PC/SC). Returns the agent's post back, not followed.
 */
export async function signedReadAnswer(t: TestApp, page: Page, card: TestCard, purpose: string, terminal?: TestTerminal, address = '127.0.0.1'): Promise<request.Response> {
  const form = readFormOf(page, purpose);
  const assertion = await signCardAssertion({
    privateKeySeed: terminal ? terminal.seed : card.seed,
    kid: terminal ? `terminal:${terminal.terminalId}` : `card:${card.sim.cardNumber}`,
    payload: {
      v: 1,
      req: form.fields.req!,
      challenge: form.fields.challenge!,
      aud: SERVER_ORIGIN,
      iat: Math.floor(t.clock.now().getTime() / 1000),
      card: { number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn },
    },
  });
  return request(t.app).post(`/card-reads/${form.fields.req}`).set('X-Forwarded-For', address).type('form').send({ assertion });
}

/** Reads the card into the current page's panel and follows the claim back, as the browser would. */
export async function readInto(t: TestApp, browser: BrowserAgent, card: TestCard, purpose: string, terminal?: TestTerminal): Promise<Page> {
  const back = await signedReadAnswer(t, browser.page!, card, purpose, terminal);
  assert.equal(back.status, 303, back.text);
  return browser.get(back.headers.location!);
}

/** The person comes to the counter: the clerk reads the card, ticks the documents, the person types the password. */
export async function registerAtCounter(
  t: TestApp,
  clerk: BrowserAgent,
  card: TestCard,
  options: { terminal?: TestTerminal; password?: string; email?: string; deviceCode?: boolean; documents?: string[] } = {},
): Promise<Page> {
  await clerk.get('/intranet/register');
  const read = await readInto(t, clerk, card, 'counter', options.terminal);
  assert.equal(read.$('#card-panel-counter .card-holder-name').text(), card.sim.name);
  const password = options.password ?? 'Taipei#2026';
  return clerk.submit(
    {
      documents: options.documents ?? ['national_id'],
      password,
      passwordConfirm: password,
      mobile: '0912345678',
      email: options.email ?? `c${card.sim.idNumber.toLowerCase()}@example.com.tw`,
      ...(options.deviceCode ? { deviceCode: '1' } : {}),
    },
    'form.counter-register-form',
  );
}
