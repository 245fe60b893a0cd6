import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/platform/clock.js';
import { openEmbeddedDatabase, type EmbeddedDatabase } from '../../src/platform/db/index.js';
import { createMailTransport, messageIdFor, type MailTransport } from '../../src/platform/mail/index.js';
import { linkTokenHash } from '../../src/platform/tokens/index.js';
import { createServices } from '../../src/services.js';
import { TAIPEI_NOON, type TestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard, type TestCard } from '../helpers/card-reads.js';
import { citizenLogIn, PASSWORD } from '../helpers/logins.js';
import { TestSmtpServer } from '../helpers/smtp.js';

const PUBLIC_ORIGIN = 'http://localhost:3000';
/** What "quickly" means while the database is down: a page answers within this, never at a TCP timeout. */
const OUTAGE_ANSWER_MS = 3000;
/** How long the app may take to notice the database is back. */
const RECOVERY_MS = 15_000;
/** How long the outage lasts while pages are asked for. */
const OUTAGE_PROBE_MS = 3000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
}

interface Answer {
  path: string;
  status: number;
  ms: number;
  body: string;
  retryAfter: string | null;
}

// The app runs in this process on an embedded PostgreSQL of its own, which the test stops and starts again (the
// shared test database stays up for the other files). Mail goes to a real SMTP server in the process.
describe('the database going away and coming back', () => {
  const smtp = new TestSmtpServer();
  const clock = new ManualClock(TAIPEI_NOON);
  const logLines: string[] = [];
  const jobsRun: unknown[] = [];
  /** What would have ended a server process: the test runner catches these, so they are collected and checked. */
  const crashes: string[] = [];
  const onCrash = (err: unknown) => void crashes.push(String(err));
  let workDir: string;
  let db: EmbeddedDatabase;
  let t: TestApp;
  let server: Server;
  let origin: string;
  let loggedInCookie: string;
  /** A visitor's home page as fetched before the outage: its cookies and the login form's CSRF token. */
  let visitor: { cookie: string; csrf: string };
  /** Mails queued before the outage, by Message-ID, with whom they are for. */
  const queuedBefore = new Map<string, string>();
  /** Set, the next mail the SMTP server accepts stops the database before the worker can record it. */
  let stopOnceAccepted: ((to: string) => Promise<void>) | undefined;
  /** Whom the mail accepted at the moment the database stopped was for. */
  let acceptedAtStop = '';
  /** Registrations applied for in a loop across the moment the database stops: what each call answered. */
  const attempts: { card: TestCard; email: string; outcome: 'applied' | 'failed' }[] = [];

  const ask = async (path: string, init: RequestInit = {}): Promise<Answer> => {
    const started = Date.now();
    try {
      const res = await fetch(`${origin}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init });
      const body = await res.text();
      return { path, status: res.status, ms: Date.now() - started, body, retryAfter: res.headers.get('retry-after') };
    } catch (err) {
      // No answer within the bound: reported as such by the assertions on time.
      return { path, status: 0, ms: Date.now() - started, body: String(err), retryAfter: null };
    }
  };
  const sql = <T extends object>(query: string, params: unknown[] = []) => t.services.orm.em.fork().getConnection().execute<T[]>(query, params);

  /** Applies for a registration through the registration service, as the application's last step does. */
  const apply = (card: TestCard, email: string) =>
    t.services.api.registration.service.apply({
      identity: { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate },
      password: PASSWORD,
      contacts: { email, mobile: '0912345678' },
      locale: 'zh-TW',
      clientAddress: '127.0.0.1',
    });
  /** Confirms a registration with the link of its confirmation mail, as the person's card would. */
  const confirm = async (card: TestCard, linkText: string) => {
    const link = /https?:\/\/\S*token=[\w-]+/.exec(linkText)?.[0];
    assert.ok(link, 'the confirmation mail has a link');
    const token = new URL(link).searchParams.get('token')!;
    const readCard = { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, readAt: clock.now().toISOString() };
    assert.equal(await t.services.api.registration.service.confirm(linkTokenHash(token), readCard, { clientAddress: '127.0.0.1' }), 'confirmed');
  };

  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    workDir = mkdtempSync(join(tmpdir(), 'nhi-db-restart-'));
    // As root the server runs as the postgres account: the folder it is opened on must be the one made traversable.
    db = await openEmbeddedDatabase(workDir);
    assert.ok(db.started && db.pause && db.resume, 'the test runs a PostgreSQL of its own');
    // The SMTP server's port is fixed first, then it goes down: mail queued now waits for a retry.
    await smtp.start(0);
    await smtp.stop();
    const dataDir = join(workDir, 'app');
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, DATA_DIR: dataDir, PUBLIC_ORIGIN, SMTP_URL: smtp.url, SERVICE_HOURS: '00:00-24:00' });
    const smtpTransport = createMailTransport(config);
    const mailTransport: MailTransport = {
      kind: smtpTransport.kind,
      close: () => smtpTransport.close(),
      async send(mail) {
        const accepted = await smtpTransport.send(mail);
        const stop = stopOnceAccepted;
        stopOnceAccepted = undefined;
        await stop?.(mail.to);
        return accepted;
      },
    };
    const services = await createServices(config, {
      clock,
      mailTransport,
      log: (line) => logLines.push(line),
      rateLimits: { login: { points: 1000, durationSeconds: 60 }, accountSteps: { points: 1000, durationSeconds: 60 } },
    });
    services.jobs.register({ 'outage-probe': async (payload) => void jobsRun.push(payload) });
    const app = createApp(services);
    t = { app, services, clock, databaseUrl: db.url, dataDir, close: async () => {} };
    services.startBackground();
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await db?.resume?.().catch(() => {});
    await t?.services.close();
    await smtp.stop();
    await db?.release();
    rmSync(workDir, { recursive: true, force: true });
  });

  test('before the outage, pages, /readyz and a citizen login work, and mail waits for the mail server', async () => {
    assert.equal((await ask('/readyz')).status, 200);
    assert.equal((await ask('/')).status, 200);
    const card = await insertTestCard(t.services);
    assert.equal(await apply(card, 'before@example.com.tw'), 'applied');
    const [confirmation] = await sql<{ payload: { linkPath: string } }>(`select payload from outbox_message where recipient = 'before@example.com.tw'`);
    await confirm(card, new URL(confirmation!.payload.linkPath, PUBLIC_ORIGIN).href);
    const browser = await citizenLogIn(t, card);
    loggedInCookie = Object.entries(browser.cookies()).map(([name, value]) => `${name}=${value}`).join('; ');
    const account = await ask('/account', { headers: { cookie: loggedInCookie } });
    assert.equal(account.status, 200, 'the logged-in page answers over the network too');
    const anonymous = new BrowserAgent(t.app);
    const home = await anonymous.get('/');
    visitor = {
      cookie: Object.entries(anonymous.cookies()).map(([name, value]) => `${name}=${value}`).join('; '),
      csrf: home.$('form.login-form input[name="_csrf"]').val()?.toString() ?? '',
    };
    assert.ok(visitor.csrf, 'the login form carries a CSRF token');

    // The mail server is down: the worker tries each mail once and schedules a retry.
    const pending = await until('every mail tried once', 10_000, async () => {
      const rows = await sql<{ idempotency_key: string; recipient: string; status: string; attempts: number }>(`select idempotency_key, recipient, status, attempts from outbox_message`);
      return rows.length >= 2 && rows.every((row) => row.status === 'pending' && row.attempts >= 1) && rows;
    });
    for (const row of pending) queuedBefore.set(messageIdFor(row.idempotency_key, PUBLIC_ORIGIN), row.recipient);
    assert.equal(smtp.messages.length, 0);
    await smtp.start();
  });

  test('connections the database drops while idle are replaced, and the process stays up', async () => {
    assert.equal((await ask('/account', { headers: { cookie: loggedInCookie } })).status, 200);
    assert.ok(t.services.sessionPool.idleCount > 0, 'the session pool keeps an idle connection');
    // What a restart does to every open connection, from the server's side.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      assert.ok(rowCount && rowCount >= 2, 'the app had connections open');
    } finally {
      await admin.end();
    }
    await sleep(300);
    assert.deepEqual(crashes, [], 'nothing went unhandled');
    assert.equal((await ask('/healthz')).status, 200);
    assert.equal((await ask('/account', { headers: { cookie: loggedInCookie } })).status, 200);
    assert.equal((await ask('/readyz')).status, 200);
  });

  test('while the database is down or not answering, every page says "try again later" (503) within 3 s and /readyz says not ready', { timeout: 40_000 }, async () => {
    const cards = await Promise.all(Array.from({ length: 40 }, () => insertTestCard(t.services)));
    // Applications one after another, across the moment the database stops.
    let writing = true;
    const writes = (async () => {
      for (const [index, card] of cards.entries()) {
        if (!writing) break;
        const email = `during-${index}@example.com.tw`;
        const outcome = await apply(card, email).then(() => 'applied' as const, () => 'failed' as const);
        attempts.push({ card, email, outcome });
      }
    })();
    // A session read just before: the session pool holds an idle connection when the server goes.
    assert.equal((await ask('/account', { headers: { cookie: loggedInCookie } })).status, 200);
    // The outage begins at the worst moment for the outbox: the SMTP server has a mail, the database has not heard.
    const stopped = new Promise<string>((resolve) => {
      stopOnceAccepted = async (to) => {
        acceptedAtStop = to;
        await db.pause!();
        resolve('stopped');
      };
    });
    assert.equal(await Promise.race([stopped, sleep(15_000).then(() => 'no mail sent')]), 'stopped');
    assert.ok(attempts.some((a) => a.outcome === 'applied'), 'applications were saved before the stop');
    clock.advance(60_000); // the retries of the mail queued before are due during the outage

    const probe = async (phase: string) => {
      const answers: (Answer & { phase: string })[] = [];
      const deadline = Date.now() + OUTAGE_PROBE_MS;
      while (Date.now() < deadline) {
        const round = await Promise.all([
          ...['/', '/announcements', '/readyz', '/healthz'].map((path) => ask(path)),
          ask('/account', { headers: { cookie: loggedInCookie } }),
          // 登入 with the form fetched before: the login limit's counter lives in the database.
          ask('/login', {
            method: 'POST',
            headers: { cookie: visitor.cookie, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ _csrf: visitor.csrf, password: 'not-the-password' }).toString(),
          }),
        ]);
        answers.push(...round.map((answer) => ({ ...answer, phase })));
      }
      return answers;
    };
    // First the port refuses connections (the server is gone); then something accepts them and never answers (a
    // server hung or starting, a network that drops packets): the app must not wait for either.
    const answers = await probe('refused');
    const hung = new Set<Socket>();
    const silent = createNetServer((socket) => void hung.add(socket));
    await new Promise<void>((resolve) => silent.listen(Number(new URL(db.url).port), '127.0.0.1', resolve));
    try {
      answers.push(...(await probe('not answering')));
    } finally {
      for (const socket of hung) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    writing = false;
    await writes;

    const slow = answers.filter((a) => a.ms > OUTAGE_ANSWER_MS);
    assert.deepEqual(slow.map((a) => `${a.phase}: ${a.path} ${a.ms} ms`), [], 'no answer waits for the database');
    assert.ok(hung.size > 0, 'the app tried the database that did not answer');
    for (const answer of answers) {
      const where = `${answer.phase}: ${answer.path}`;
      if (answer.path === '/healthz') assert.equal(answer.status, 200, where);
      else if (answer.path === '/readyz') assert.deepEqual([answer.status, JSON.parse(answer.body)], [503, { status: 'not ready' }], where);
      // An anonymous home page may need nothing from the database; when it does, it is the try-later page too.
      else if (answer.path !== '/' || answer.status !== 200) {
        assert.equal(answer.status, 503, `${where} answers 503`);
        assert.equal(answer.retryAfter, '5', `${where} says when to try again`);
        assert.match(answer.body, /<h1>[^<]+<\/h1>/, `${where} is a page`);
        assert.match(answer.body, /請稍後再試/, `${where} asks to try again later`);
      }
    }
    assert.ok(attempts.some((a) => a.outcome === 'failed'), 'some applications were attempted while the database was down');
  });

  test('while the database is down, the process stays up and a write is refused rather than half made', async () => {
    const health = await ask('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(crashes, [], 'nothing went unhandled');
    const card = attempts.find((a) => a.outcome === 'failed')!;
    await assert.rejects(apply(card.card, card.email));
    await sleep(1500); // the mail worker and the job queue poll the missing database meanwhile
    assert.ok(logLines.some((line) => line.startsWith('mail worker:')), 'the mail worker reports the missing database and carries on');
  });

  test('once the database is back, /readyz is ready and pages answer again without restarting the app', { timeout: 30_000 }, async () => {
    await db.resume!();
    await until('/readyz answers 200', RECOVERY_MS, async () => (await ask('/readyz')).status === 200);
    assert.equal((await ask('/')).status, 200);
    assert.equal((await ask('/announcements')).status, 200);
    const account = await ask('/account', { headers: { cookie: loggedInCookie } });
    assert.equal(account.status, 200, 'the session made before the outage still holds');
  });

  test('each application made across the outage is saved whole or not at all', async () => {
    let saved = 0;
    for (const attempt of attempts) {
      const id = attempt.card.sim.idNumber;
      const [counts] = await sql<{ registrations: string; tokens: string; mails: string; audits: string }>(
        `select (select count(*) from registration where id_number = ?) as registrations,
                (select count(*) from link_token where subject = ?) as tokens,
                (select count(*) from outbox_message where recipient = ?) as mails,
                (select count(*) from audit_event where subject_key = ? and action = 'registration.apply') as audits`,
        [id, id, attempt.email, t.services.audit.personKey(id)],
      );
      const parts = [counts!.registrations, counts!.tokens, counts!.mails, counts!.audits].map(Number);
      const whole = parts.every((n) => n === 1);
      assert.ok(whole || parts.every((n) => n === 0), `${attempt.email} (${attempt.outcome}): registration, link, mail, audit = ${parts.join(', ')}`);
      if (attempt.outcome === 'applied') assert.ok(whole, `${attempt.email} was reported saved`);
      if (whole) saved++;
    }
    assert.ok(saved > 0 && saved < attempts.length, `${saved} of ${attempts.length} applications saved`);
  });

  test('after the outage a person can register, confirm from the mail and log in', { timeout: 30_000 }, async () => {
    const card = await insertTestCard(t.services);
    assert.equal(await apply(card, 'after@example.com.tw'), 'applied');
    const [mail] = await until('the confirmation mail arrives', RECOVERY_MS, async () => {
      const mails = smtp.messages.filter((m) => m.to.includes('after@example.com.tw'));
      return mails.length > 0 && mails;
    });
    await confirm(card, mail!.text);
    const browser = await citizenLogIn(t, card);
    assert.equal(browser.page!.status, 200);
  });

  test('mail queued before the outage is delivered once the database is back, each message exactly once', { timeout: 30_000 }, async () => {
    await until('every mail queued before the outage delivered', RECOVERY_MS, async () =>
      [...queuedBefore.keys()].every((id) => smtp.messages.some((m) => m.messageId === id)));
    await until('no mail left pending', RECOVERY_MS, async () => (await sql(`select 1 from outbox_message where status = 'pending'`)).length === 0);
    // Further polls must not send anything a second time.
    await sleep(2500);
    for (const [messageId, recipient] of queuedBefore) {
      assert.equal(smtp.messages.filter((m) => m.messageId === messageId).length, 1, `the mail to ${recipient} arrived once`);
    }
    const [atStop] = await sql<{ status: string }>(`select status from outbox_message where recipient = ?`, [acceptedAtStop]);
    assert.equal(atStop?.status, 'sent', `the mail accepted as the database stopped (to ${acceptedAtStop}) is recorded as sent`);
    const ids = smtp.messages.map((m) => m.messageId);
    assert.deepEqual(ids.filter((id, index) => ids.indexOf(id) !== index), [], 'no message arrived twice');
    const rows = await sql<{ idempotency_key: string; recipient: string; status: string }>(`select idempotency_key, recipient, status from outbox_message`);
    for (const row of rows) {
      const copies = smtp.messages.filter((m) => m.messageId === messageIdFor(row.idempotency_key, PUBLIC_ORIGIN)).length;
      // A mail the server accepted is recorded as sent once the database is back, not left for an operator to judge
      // (the one accepted at the moment the database stopped among them).
      if (copies === 1) assert.equal(row.status, 'sent', `the mail to ${row.recipient} arrived and is recorded as sent`);
      // Claimed just as the database went, its send unknown to the worker: never sent automatically (at most once).
      else assert.ok(['sending', 'in_doubt'].includes(row.status), `the mail to ${row.recipient} is ${row.status} and arrived ${copies} times`);
    }
  });

  test('the job queue runs a job added after the database is back', { timeout: 30_000 }, async () => {
    await t.services.orm.em.fork().transactional((tx) => t.services.jobs.add(tx, 'outage-probe', { after: 'restart' }));
    await until('the job ran', RECOVERY_MS, async () => jobsRun.length > 0);
    assert.deepEqual(jobsRun, [{ after: 'restart' }]);
  });

  test('from the first stop to now, no error went unhandled (a server process would have ended)', () => {
    assert.deepEqual(crashes, []);
  });
});
