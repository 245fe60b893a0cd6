import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cheerio from 'cheerio';
import request from 'supertest';
import type { Express } from 'express';
import { cardKeyPairFromSeed, generateSeed, signCardAssertion } from '../../src/agent/index.js';
import { idCheckDigit } from '../../src/modules/household/index.js';
import type { Services } from '../../src/services.js';
import type { BrowserAgent, Page } from './browser-agent.js';
import type { TestApp } from './app.js';

/** The server origin the test app claims (PUBLIC_ORIGIN) and the agent allows. */
export const SERVER_ORIGIN = 'http://localhost:3000';
const root = join(import.meta.dirname, '..', '..');

export interface TestAgent {
  url: string;
  /** PUT /sim/card: the card in the simulated reader. */
  insert(card: SimCardJson): Promise<void>;
  /** DELETE /sim/card. */
  remove(): Promise<void>;
  stop(): Promise<void>;
}

/** The real reader agent as its own process (`src/agent/main.ts --sim`), on a free port, allowing `serverOrigin`. */
export async function startTestAgent(serverOrigin = SERVER_ORIGIN): Promise<TestAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'nhi-agent-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/agent/main.ts', '--sim', '--port', '0', '--allow-origin', serverOrigin, '--demo-cards', join(dir, 'cards'),
      '--terminal-key', join(dir, 'terminal-key.json')],
    { cwd: root, env: { ...process.env, DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // port 0: the agent picks a free port and reports it, so parallel test files never collide.
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}: ${stderr}`));
    });
  });
  const sim = async (method: string, body?: object) => {
    const res = await fetch(`${url}/sim/card`, {
      method,
      ...(body ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    if (res.status !== 204) throw new Error(`${method} /sim/card: ${res.status} ${await res.text()}`);
  };
  return {
    url,
    insert: (card) => sim('PUT', card),
    remove: () => sim('DELETE'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The simulated card JSON of INTERFACES.md. */
export interface SimCardJson {
  cardNumber: string;
  idNumber: string;
  name: string;
  birthDate: string;
  sex: 'M' | 'F';
  issuedOn: string;
  privateKey: string;
}

export interface TestCard {
  sim: SimCardJson;
  seed: Buffer;
  publicKey: string;
}

const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

/** A national ID number with a correct check digit. */
export function testIdNumber(sex: 'M' | 'F' = 'M'): string {
  const prefix = `A${sex === 'M' ? '1' : '2'}${digits(7)}`;
  return `${prefix}${idCheckDigit(prefix)}`;
}

/**
 * A person and their card in the registries (by SQL, for speed), with a fresh Ed25519 key whose public half
 * the card registry holds; `sim` is the matching simulated card for the agent.
 */
export async function insertTestCard(
  services: Services,
  options: { name?: string; sex?: 'M' | 'F'; status?: 'valid' | 'void'; inRegistry?: boolean } = {},
): Promise<TestCard> {
  const seed = generateSeed();
  const { publicKey } = cardKeyPairFromSeed(seed);
  const sex = options.sex ?? 'M';
  const sim: SimCardJson = {
    cardNumber: `0000${digits(8)}`,
    idNumber: testIdNumber(sex),
    name: options.name ?? '王小明',
    birthDate: '1980-01-31',
    sex,
    issuedOn: '2015-06-01',
    privateKey: seed.toString('base64url'),
  };
  if (options.inRegistry !== false) {
    const db = services.orm.em.fork().getConnection();
    await db.execute(
      `insert into person (id_number, name, birth_date, sex, household_number, village_code, neighborhood) values (?, ?, ?, ?, ?, ?, ?)`,
      [sim.idNumber, sim.name, sim.birthDate, sim.sex, 'F1234567', '63000010002', 1],
    );
    await db.execute(`insert into card (card_number, id_number, issued_on, status, public_key) values (?, ?, ?, ?, ?)`, [
      sim.cardNumber, sim.idNumber, sim.issuedOn, options.status ?? 'valid', publicKey,
    ]);
  }
  return { sim, seed, publicKey };
}

export interface FormData {
  action: string;
  fields: Record<string, string>;
}

function formOf($: cheerio.CheerioAPI, selector: string): FormData {
  const form = $(selector).first();
  if (!form.length) throw new Error(`no form ${selector}`);
  const fields: Record<string, string> = {};
  form.find('input[name]').each((_i, el) => {
    fields[$(el).attr('name')!] = $(el).val()?.toString() ?? '';
  });
  return { action: form.attr('action') ?? '', fields };
}

/** The read form of the card panel for `purpose` on a page. */
export const readFormOf = (page: Page, purpose = 'login'): FormData => formOf(page.$, `#card-panel-${purpose} form.card-read-form`);

/** Posts the read form to the real agent as the page's browser would (a top-level form post from SERVER_ORIGIN). */
export async function readAtAgent(form: FormData, origin = SERVER_ORIGIN): Promise<FormData & { status: number; html: string }> {
  const res = await fetch(form.action, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
    body: new URLSearchParams(form.fields),
  });
  const html = await res.text();
  return { status: res.status, html, ...formOf(cheerio.load(html), 'form') };
}

/**
 * The agent page's form posted back to the server as the cross-site POST it is: no cookie of the
 * person's session, no CSRF token. Returns the raw response (not following the redirect).
 */
export function postBack(app: Express, form: FormData): Promise<request.Response> {
  const url = new URL(form.action);
  if (url.origin !== SERVER_ORIGIN) throw new Error(`the agent page posts to ${url.origin}`);
  return request(app).post(url.pathname).type('form').send(form.fields);
}

/** A counter PC enrolled by an administrator: its id and the key its agent signs with. */
export interface TestTerminal {
  terminalId: string;
  seed: Buffer;
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
