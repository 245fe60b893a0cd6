/**
 * Capacity figures for sizing: a whole registration as a browser without JavaScript makes it, the app API login, the
 * raw argon2id rates they are compared with, the outbox worker's delivery rate, what the database carries per
 * registration, and the summary table with the processes a peak day would need.
 */
import * as cheerio from 'cheerio';
import { signCardAssertion } from '../../src/agent/index.js';
import { hashPassword, verifyPassword } from '../../src/platform/passwords/index.js';
import type { Services } from '../../src/services.js';
import { insertTestCard, SERVER_ORIGIN, type TestCard } from '../helpers/card-reads.js';
import { TEST_HOUSEHOLD } from '../helpers/flows.js';
import { PASSWORD, registeredPeople, timed } from './login.js';

/** A backend flushes its pending statistics after at most 10 s idle (PostgreSQL's PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_000;
const where = { clientAddress: '127.0.0.1' };

interface Page {
  url: string;
  status: number;
  html: string;
  $: cheerio.CheerioAPI;
}

/**
 * A browser with JavaScript off over real HTTP: keeps cookies, follows redirects, submits forms with their hidden
 * fields, fetches a stylesheet once (the site caches it for a day), and counts every request it sends.
 */
class PlainBrowser {
  private readonly cookies = new Map<string, string>();
  private readonly cached = new Set<string>();
  /** Requests to the site. */
  siteRequests = 0;
  /** Requests to the reader agent on the person's own PC (its status frame, the read): they never reach the site. */
  agentRequests = 0;
  page: Page | undefined;

  constructor(private readonly origin: string) {}

  async get(path: string): Promise<Page> {
    let url = path;
    let res = await this.send(url);
    for (let hops = 0; hops < 5 && res.status >= 300 && res.status < 400; hops++) {
      await res.arrayBuffer();
      url = res.headers.get('location')!;
      res = await this.send(url);
    }
    return this.keep(res, url);
  }

  /** Fills and submits the form matched by `selector` on the current page, then follows its redirect. */
  async submit(selector: string, typed: Record<string, string> = {}): Promise<Page> {
    const $ = this.page!.$;
    const form = $(selector).first();
    if (!form.length) throw new Error(`no form "${selector}" on ${this.page!.url}: ${$('main').text().trim().slice(0, 300)}`);
    const fields: Record<string, string> = {};
    form.find('input[name], select[name], textarea[name]').each((_i, el) => {
      const type = ($(el).attr('type') ?? '').toLowerCase();
      if (type === 'submit' || type === 'button' || ((type === 'checkbox' || type === 'radio') && $(el).attr('checked') === undefined)) return;
      fields[$(el).attr('name')!] = $(el).val()?.toString() ?? '';
    });
    const action = form.attr('action') || this.page!.url;
    const res = await this.send(action, { form: { ...fields, ...typed } });
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      return this.get(res.headers.get('location')!);
    }
    return this.keep(res, action);
  }

  /**
   * 讀取 on the page's card panel: the form goes to the agent, which signs the read with the card's key (done here, as
   * the agent does it); its answer page posts the read back cross-site (no cookies), and the browser follows the claim.
   */
  async readCard(purpose: string, card: TestCard): Promise<Page> {
    const form = this.page!.$(`#card-panel-${purpose} form.card-read-form`);
    if (!form.length) throw new Error(`no ${purpose} card panel on ${this.page!.url}`);
    const field = (name: string) => form.find(`input[name="${name}"]`).val() as string;
    const req = field('req');
    this.agentRequests += 1;
    const assertion = await signCardAssertion({
      privateKeySeed: card.seed,
      kid: `card:${card.sim.cardNumber}`,
      payload: {
        v: 1, req, challenge: field('challenge'), aud: SERVER_ORIGIN, iat: Math.floor(Date.now() / 1000),
        card: { number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn },
      },
    });
    const back = await this.send(`/card-reads/${req}`, { form: { req, assertion }, crossSite: true });
    await back.arrayBuffer();
    if (back.status !== 303) throw new Error(`the card read was answered ${back.status}`);
    return this.get(back.headers.get('location')!);
  }

  private async send(path: string, options: { form?: Record<string, string>; crossSite?: boolean } = {}): Promise<Response> {
    this.siteRequests += 1;
    const headers: Record<string, string> = {};
    if (!options.crossSite && this.cookies.size) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(new URL(path, this.origin), {
      method: options.form ? 'POST' : 'GET',
      headers,
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
      redirect: 'manual',
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')).trim(), pair!.slice(pair!.indexOf('=') + 1).trim()];
      const gone = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  private async keep(res: Response, url: string): Promise<Page> {
    const html = await res.text();
    if (res.status >= 300) throw new Error(`${url} answered ${res.status}: ${html.slice(0, 300)}`);
    this.page = { url, status: res.status, html, $: cheerio.load(html) };
    // Without JavaScript each card panel shows the agent's status page in a frame (a <noscript> iframe).
    this.agentRequests += html.match(/<iframe class="reader-status-frame"/g)?.length ?? 0;
    for (const el of this.page.$('link[rel="stylesheet"]').toArray()) {
      const href = this.page.$(el).attr('href')!;
      if (this.cached.has(href)) continue;
      this.cached.add(href);
      const sheet = await this.send(href);
      await sheet.arrayBuffer();
    }
    return this.page;
  }
}

interface DatabaseCounters {
  commits: number;
  rollbacks: number;
  /** The next transaction id: how many transactions wrote (took an id) in between. */
  nextXid: number;
  outbox: number;
  sent: number;
}

/** The database's counters once every backend has flushed its statistics. One transaction of its own. */
async function settledCounters(services: Services): Promise<DatabaseCounters> {
  await new Promise((resolve) => setTimeout(resolve, STATS_SETTLE_MS));
  const [row] = (await services.orm.em.fork().getConnection().execute(
    `select d.xact_commit as commits, d.xact_rollback as rollbacks, pg_snapshot_xmax(pg_current_snapshot())::text as next_xid,
       (select count(*) from outbox_message) as outbox, (select count(*) from outbox_message where status = 'sent') as sent
     from pg_stat_database d where d.datname = current_database()`,
  )) as { commits: string; rollbacks: string; next_xid: string; outbox: string; sent: string }[];
  return { commits: Number(row!.commits), rollbacks: Number(row!.rollbacks), nextXid: Number(row!.next_xid), outbox: Number(row!.outbox), sent: Number(row!.sent) };
}

export interface RegistrationFigures {
  registrations: number;
  perSecond: number;
  siteRequestsPerRegistration: number;
  agentRequestsPerRegistration: number;
  /** Committed transactions per registration (pg_stat_database), and those of them that wrote. */
  transactionsPerRegistration: number;
  writesPerRegistration: number;
  mailsPerRegistration: number;
  counters: DatabaseCounters;
}

/**
 * 首次登入請先申請 end to end, `count` people at `concurrency` at a time, each as a browser without JavaScript: the home
 * page, the rules, the card, 戶號 with the address lists refreshed by 更新選項, the password and contacts, 確認申請, the
 * mail's link (read from the outbox: delivery is measured apart), the card again and 確定.
 */
export async function benchRegistration(services: Services, url: string, options: { count: number; concurrency: number }): Promise<RegistrationFigures> {
  const db = () => services.orm.em.fork().getConnection();
  const cards: TestCard[] = [];
  for (let i = 0; i < options.count; i++) cards.push(await insertTestCard(services));
  const browsers: PlainBrowser[] = [];
  let ownQueries = 0;
  const before = await settledCounters(services);
  const seconds = await timed(cards, options.concurrency, async (card) => {
    const browser = new PlainBrowser(url);
    browsers.push(browser);
    const email = `reg-${card.sim.idNumber.toLowerCase()}@example.com.tw`;
    const home = await browser.get('/');
    await browser.get(home.$('a.register-link').attr('href')!);
    await browser.submit('form[action="/register/terms"]');
    await browser.readCard('register', card);
    const { householdNumber, county, township, village, neighborhood } = TEST_HOUSEHOLD;
    const townships = await browser.submit('form[action="/register/identity"]', { householdNumber, county, refresh: 'address' });
    if (!townships.$(`#township option[value="${township}"]`).length) throw new Error('更新選項 did not list the townships');
    const villages = await browser.submit('form[action="/register/identity"]', { householdNumber, county, township, refresh: 'address' });
    if (!villages.$(`#village option[value="${village}"]`).length) throw new Error('更新選項 did not list the villages');
    const credentials = await browser.submit('form[action="/register/identity"]', { householdNumber, county, township, village, neighborhood });
    if (credentials.url !== '/register/credentials') throw new Error(`the identity step ended on ${credentials.url}: ${credentials.$('.error-summary').text()}`);
    const applied = await browser.submit('form[action="/register/credentials"]', { password: PASSWORD, passwordConfirm: PASSWORD, mobile: '0912345678', email });
    if (applied.url !== '/register/applied') throw new Error(`確認申請 ended on ${applied.url}: ${applied.$('.error-summary').text()}`);
    ownQueries += 1;
    const [mail] = (await db().execute(`select payload->>'linkPath' as link from outbox_message where recipient = ? and template = 'registration-confirmation'`, [email])) as { link: string }[];
    const link = new URL(mail!.link, SERVER_ORIGIN);
    await browser.get(`${link.pathname}${link.search}`);
    await browser.readCard('confirm', card);
    const done = await browser.submit('form[action="/register/confirm"]');
    if (!done.$('main').text().includes('您已完成電子郵件信箱認證')) throw new Error(`確定 did not confirm: ${done.$('main').text().trim().slice(0, 300)}`);
  });
  const after = await settledCounters(services);
  const [active] = (await db().execute(`select count(*) as n from registration where state = 'active' and id_number in (${cards.map(() => '?').join(',')})`, cards.map((c) => c.sim.idNumber))) as { n: string }[];
  if (Number(active!.n) !== cards.length) throw new Error(`${active!.n} of ${cards.length} registrations are active`);
  const per = (n: number) => n / cards.length;
  const requests = new Set(browsers.map((b) => `${b.siteRequests} to the site, ${b.agentRequests} to the agent`));
  if (requests.size !== 1) throw new Error(`registrations took different numbers of requests: ${[...requests].join(' | ')}`);
  return {
    registrations: cards.length,
    perSecond: cards.length / seconds,
    siteRequestsPerRegistration: browsers[0]!.siteRequests,
    agentRequestsPerRegistration: browsers[0]!.agentRequests,
    // The bench's own outbox reads and the first counter read are commits that are not the app's.
    transactionsPerRegistration: per(after.commits - before.commits - ownQueries - 1),
    writesPerRegistration: per(after.nextXid - before.nextXid),
    mailsPerRegistration: per(after.outbox - before.outbox),
    counters: after,
  };
}

/** Raw argon2id with the app's parameters, `concurrency` at a time for about `seconds` each: hashes/s and verifies/s. */
export async function argon2Rates(options: { concurrency: number; seconds: number }): Promise<{ hashesPerSecond: number; verifiesPerSecond: number }> {
  const rate = async (work: () => Promise<void>) => {
    const started = performance.now();
    const until = started + options.seconds * 1000;
    let done = 0;
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < until) {
        await work();
        done += 1;
      }
    }));
    return done / ((performance.now() - started) / 1000);
  };
  const hash = await hashPassword(PASSWORD);
  return {
    hashesPerSecond: await rate(async () => void (await hashPassword(PASSWORD))),
    verifiesPerSecond: await rate(async () => {
      if (!(await verifyPassword(hash, PASSWORD))) throw new Error('verify failed');
    }),
  };
}

/** POST /api/app/v1/sessions for `people` bound devices, `concurrency` at a time: logins/s. */
export async function benchAppLogin(services: Services, url: string, options: { people: number; concurrency: number }): Promise<{ loginsPerSecond: number }> {
  const devices = services.api.devices.service;
  const bound: { idNumber: string; deviceId: string; deviceToken: string }[] = [];
  for (const [i, card] of (await registeredPeople(services, options.people)).entries()) {
    const { code } = await devices.issueCode(card.sim.idNumber, where);
    const deviceId = `BENCH-${String(i).padStart(8, '0')}`;
    const result = await devices.bind({ code, platform: 'Android', model: 'Bench', deviceId }, where);
    if (!result.ok) throw new Error(`the bench device ${deviceId} was not bound`);
    bound.push({ idNumber: card.sim.idNumber, deviceId, deviceToken: result.deviceToken });
  }
  const seconds = await timed(bound, options.concurrency, async (device) => {
    const res = await fetch(`${url}/api/app/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...device, password: PASSWORD }) });
    const body = (await res.json()) as { accessToken?: string };
    if (res.status !== 200 || !body.accessToken) throw new Error(`the app login answered ${res.status} ${JSON.stringify(body)}`);
  });
  return { loginsPerSecond: bound.length / seconds };
}

/**
 * The app process's own outbox worker (as startBackground runs it: its poll interval and batch) delivering the mail
 * waiting in the outbox to the configured transport, for at most `seconds`: mails/s and committed transactions per mail.
 */
export async function benchMailDelivery(services: Services, options: { seconds: number; from: DatabaseCounters }): Promise<{ mails: number; perSecond: number; transactionsPerMail: number; writesPerMail: number }> {
  const db = () => services.orm.em.fork().getConnection();
  const pending = async () => Number(((await db().execute(`select count(*) as n from outbox_message where status = 'pending'`)) as { n: string }[])[0]!.n);
  let ownQueries = 0;
  const started = performance.now();
  services.mailWorker.start();
  try {
    for (;;) {
      ownQueries += 1;
      if ((await pending()) === 0 || performance.now() - started > options.seconds * 1000) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await services.mailWorker.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await settledCounters(services);
  const mails = after.sent - options.from.sent;
  if (!mails) throw new Error('the outbox worker delivered no mail');
  return { mails, perSecond: mails / seconds, transactionsPerMail: (after.commits - options.from.commits - ownQueries - 1) / mails, writesPerMail: (after.nextXid - options.from.nextXid) / mails };
}

export interface CapacityFigures {
  cores: number;
  bare: number;
  homeNew: number;
  homeReturning: number;
  registration: RegistrationFigures;
  argon2: { hashesPerSecond: number; verifiesPerSecond: number };
  login: { loginsPerSecond: number; verifiesPerSecond: number };
  appLogin: { loginsPerSecond: number };
  mail: { mails: number; perSecond: number; transactionsPerMail: number; writesPerMail: number };
  hold: { rate: number; seconds: number; p50: number; p99: number };
}

/** Registrations in the peak day, the share of them in its busiest hour, and how busy a process may be at that hour. */
export const SIZING = { registrationsPerDay: 1_000_000, peakHourShare: 0.15, targetUtilisation: 0.5 } as const;

/** The markdown table of per-process figures and the sizing that follows from them, as lines to print. */
export function capacitySummary(f: CapacityFigures): string[] {
  const r = f.registration;
  const fixed = (n: number, digits = 1) => n.toFixed(digits);
  const peak = (SIZING.registrationsPerDay * SIZING.peakHourShare) / 3600;
  const byFlow = Math.ceil(peak / (r.perSecond * SIZING.targetUtilisation));
  const byMail = Math.ceil((peak * r.mailsPerRegistration) / (f.mail.perSecond * SIZING.targetUtilisation));
  const transactions = peak * (r.transactionsPerRegistration + r.mailsPerRegistration * f.mail.transactionsPerMail);
  const writes = peak * (r.writesPerRegistration + r.mailsPerRegistration * f.mail.writesPerMail);
  return [
    '',
    `## Capacity (one app process; it shares this machine's ${f.cores} cores with PostgreSQL and the load driver)`,
    '',
    '| what | per process | ratio |',
    '|---|---|---|',
    `| home page, new visitor | ${fixed(f.homeNew, 0)} req/s | ${fixed(f.homeNew / f.bare, 2)} of bare Express (${fixed(f.bare, 0)} req/s) |`,
    `| home page, returning visitor | ${fixed(f.homeReturning, 0)} req/s | ${fixed(f.homeReturning / f.bare, 2)} of bare Express |`,
    `| registration without JS (${r.siteRequestsPerRegistration} requests to the site, ${r.agentRequestsPerRegistration} to the reader agent) | ${fixed(r.perSecond)} /s | ${fixed(r.perSecond / f.argon2.hashesPerSecond, 2)} of argon2id hash (${fixed(f.argon2.hashesPerSecond)} /s) |`,
    `| login, card + password | ${fixed(f.login.loginsPerSecond)} /s | ${fixed(f.login.loginsPerSecond / f.login.verifiesPerSecond, 2)} of argon2id verify (${fixed(f.login.verifiesPerSecond)} /s) |`,
    `| app API login | ${fixed(f.appLogin.loginsPerSecond)} /s | ${fixed(f.appLogin.loginsPerSecond / f.argon2.verifiesPerSecond, 2)} of argon2id verify (${fixed(f.argon2.verifiesPerSecond)} /s) |`,
    `| mail delivery by the outbox worker | ${fixed(f.mail.perSecond)} mails/s | — |`,
    `| p99, home page (returning) at ${f.hold.rate} req/s (half its capacity) for ${f.hold.seconds} s | ${f.hold.p99} ms | p50 ${f.hold.p50} ms |`,
    '',
    `Sizing for ${SIZING.registrationsPerDay.toLocaleString('en')} registrations in one day, assuming its peak hour carries ${SIZING.peakHourShare * 100}% of them ` +
      `(${fixed(peak)} registrations/s) and processes kept at ${SIZING.targetUtilisation * 100}% utilisation:`,
    `- the registration flow needs ${byFlow} app processes (${fixed(r.perSecond)} /s each), the mail of it (${fixed(r.mailsPerRegistration, 2)} per registration) ` +
      `${byMail} (${fixed(f.mail.perSecond)} mails/s per worker): ${Math.max(byFlow, byMail)} app processes;`,
    `- the site then answers ${fixed(peak * r.siteRequestsPerRegistration, 0)} requests/s for registrations alone;`,
    `- the database carries ${fixed(transactions, 0)} committed transactions/s, ${fixed(writes, 0)} of them writing ` +
      `(per registration ${fixed(r.transactionsPerRegistration)}, ${fixed(r.writesPerRegistration)} writing; per mail delivered ${fixed(f.mail.transactionsPerMail)}, ${fixed(f.mail.writesPerMail)} writing).`,
  ];
}
