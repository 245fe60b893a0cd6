import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cardKeyPairFromSeed, generateSeed } from '../../src/agent/index.js';
import type { TestApp } from './app.js';
import type { BrowserAgent, Page } from './browser-agent.js';
import { readInto, type TestCard, type TestTerminal } from './card-reads.js';

export { readInto, signedReadAnswer, type TestTerminal } from './card-reads.js';

export async function enrolTerminal(t: TestApp, label = '臨櫃 1 號'): Promise<TestTerminal> {
  const seed = generateSeed();
  const terminalId = `T-${randomBytes(4).toString('hex')}`;
  await t.services.readerTerminals.enroll({ terminalId, publicKey: cardKeyPairFromSeed(seed).publicKey, label });
  return { terminalId, seed };
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
