/**
 * Login throughput against the raw argon2id rate with the same parameters: a login is one argon2id verify plus
 * the card-read check, the lockout row, a new session id and its store write, so the ratio says what the rest costs.
 */
import * as cheerio from 'cheerio';
import request from 'supertest';
import { signCardAssertion } from '../../src/agent/index.js';
import { hashPassword, verifyPassword } from '../../src/platform/passwords/index.js';
import { linkTokenHash } from '../../src/platform/tokens/index.js';
import type { Services } from '../../src/services.js';
import { insertTestCard, SERVER_ORIGIN, type TestCard } from '../helpers/card-reads.js';

export const PASSWORD = 'Taipei#2026';

/** Registered, confirmed people, made through the registration module's service as the site would. */
export async function registeredPeople(services: Services, count: number): Promise<TestCard[]> {
  const people: TestCard[] = [];
  const registration = services.api.registration.service;
  for (let i = 0; i < count; i++) {
    const card = await insertTestCard(services);
    const identity = { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate };
    await registration.apply({ identity, password: PASSWORD, contacts: { email: `bench-${card.sim.idNumber.toLowerCase()}@example.com`, mobile: '0912345678' }, locale: 'zh-TW', clientAddress: '127.0.0.1' });
    const [row] = (await services.orm.em.fork().getConnection().execute(
      `select payload->>'linkPath' as link from outbox_message where recipient = ? and template = 'registration-confirmation'`, [`bench-${card.sim.idNumber.toLowerCase()}@example.com`],
    )) as { link: string }[];
    const token = new URL(row!.link, SERVER_ORIGIN).searchParams.get('token')!;
    const result = await registration.confirm(linkTokenHash(token), { ...identity, readAt: new Date().toISOString() }, { clientAddress: '127.0.0.1' });
    if (result !== 'confirmed') throw new Error(`bench registration not confirmed: ${result}`);
    people.push(card);
  }
  return people;
}

/** A browser session on the home page with the person's card read and claimed: ready to post the password. */
async function readyToLogIn(url: string, card: TestCard): Promise<{ browser: ReturnType<typeof request.agent>; csrf: string }> {
  const browser = request.agent(url);
  const home = cheerio.load((await browser.get('/')).text);
  const form = home('#card-panel-login form.card-read-form');
  const field = (name: string) => form.find(`input[name="${name}"]`).val() as string;
  const req = field('req');
  const payload = {
    v: 1 as const, req, challenge: field('challenge'), aud: SERVER_ORIGIN, iat: Math.floor(Date.now() / 1000),
    card: { number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn },
  };
  const assertion = await signCardAssertion({ privateKeySeed: card.seed, kid: `card:${card.sim.cardNumber}`, payload });
  const back = await request(url).post(`/card-reads/${req}`).type('form').send({ req, assertion });
  await browser.get(back.headers.location!);
  const page = cheerio.load((await browser.get('/')).text);
  return { browser, csrf: page('form[action="/login"] input[name=_csrf]').val() as string };
}

/** Runs `work` over `items` with `concurrency` at a time; returns the elapsed seconds. */
export async function timed<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
  return (performance.now() - started) / 1000;
}

export async function benchLogin(services: Services, url: string, options: { people: number; concurrency: number }): Promise<{ loginsPerSecond: number; verifiesPerSecond: number }> {
  const people = await registeredPeople(services, options.people);
  const sessions = [];
  for (const card of people) sessions.push(await readyToLogIn(url, card));
  const loginSeconds = await timed(sessions, options.concurrency, async ({ browser, csrf }) => {
    const res = await browser.post('/login').type('form').send({ _csrf: csrf, password: PASSWORD });
    if (res.status !== 303 || res.headers.location !== '/account') throw new Error(`login answered ${res.status} ${res.headers.location ?? res.text.slice(0, 200)}`);
  });
  const hash = await hashPassword(PASSWORD);
  const verifySeconds = await timed(people, options.concurrency, async () => {
    if (!(await verifyPassword(hash, PASSWORD))) throw new Error('verify failed');
  });
  return { loginsPerSecond: people.length / loginSeconds, verifiesPerSecond: people.length / verifySeconds };
}
