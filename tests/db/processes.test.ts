import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ManualClock } from '../../src/platform/clock.js';
import { RATE_LIMITS } from '../../src/platform/http/index.js';
import type { EnqueueRequest } from '../../src/platform/mail/index.js';
import { migrationsDir } from '../../src/platform/paths.js';
import { useTestApp, type TestApp } from '../helpers/app.js';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import { readInto, SERVER_ORIGIN } from '../helpers/card-reads.js';
import { appClient, freshAddress, generateDeviceCode, newDevice } from '../helpers/devices.js';
import { citizenLogIn, PASSWORD, registerActive, type LoginSite } from '../helpers/logins.js';
import { FrontProxy, spawnAppProcess, type AppProcess } from '../helpers/processes.js';
import { TestSmtpServer } from '../helpers/smtp.js';

// Two app processes on one database behave as one (QUALITY.md "Reliability"): migrations, sessions, lockouts,
// device codes, rate limits and the mail queue live in PostgreSQL, never in one process's memory.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** One deployment's secret: every process signs and checks sessions, CSRF tokens and codes with it. */
const SESSION_SECRET = randomBytes(32).toString('base64url');
const LOCKOUT = 4;
const LOGIN_LIMIT = RATE_LIMITS.login.points;
// More than one worker run's batch (20): neither process's worker can take them all in one poll.
const MAILS = 40;
const WRONG = '註冊密碼錯誤，請重新輸入';

const smtp = new TestSmtpServer();
before(() => smtp.start(0));
after(() => smtp.stop());

/** What an operator sets for every app process of the site (the children read the wall clock). */
function siteEnv(databaseUrl: string, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    SMTP_URL: smtp.url,
    SESSION_SECRET,
    PUBLIC_ORIGIN: SERVER_ORIGIN,
    SERVICE_HOURS: '00:00-24:00',
    LOGIN_LOCKOUT_ATTEMPTS: String(LOCKOUT),
  };
}

async function stopAll(processes: AppProcess[]): Promise<void> {
  await Promise.all(processes.map((appProcess) => appProcess.stop()));
}

/** The committed migrations, by the name the migrator records. */
function committedMigrations(): string[] {
  return readdirSync(migrationsDir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => file.replace(/\.ts$/, ''))
    .sort();
}

describe('two app processes starting on a database never migrated', () => {
  const adminUrl = process.env.TEST_PG_ADMIN_URL!;
  const name = `unmigrated_${randomBytes(5).toString('hex')}`;
  const databaseUrl = adminUrl.replace(/\/postgres$/, `/${name}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'nhi-processes-'));
  const processes: AppProcess[] = [];

  before(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
  });
  after(async () => {
    await stopAll(processes);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('started at the same moment, both come up, and each migration is applied by one of them and recorded once', async () => {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      processes.push(...(await Promise.all(['A', 'B'].map((label) => spawnAppProcess(label, siteEnv(databaseUrl, dataDir))))));
      // Watched while they start: a process waiting for an advisory lock here means the two migrations overlapped.
      let mostWaiting = 0;
      let started = false;
      const watching = (async () => {
        while (!started) {
          const { rows } = await db.query<{ waiting: number }>(
            `select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
          );
          mostWaiting = Math.max(mostWaiting, rows[0]!.waiting);
          await sleep(10);
        }
      })();
      try {
        await Promise.all(processes.map((appProcess) => appProcess.ready()));
      } finally {
        started = true;
        await watching;
      }
      assert.ok(mostWaiting >= 1, 'the starts overlapped: one process waited for the other\'s migration lock');

      const { rows } = await db.query<{ name: string; times: number }>(
        `select name, count(*)::int as times from mikro_orm_migrations group by name order by name`,
      );
      const expected = committedMigrations();
      assert.ok(expected.length > 0);
      assert.deepEqual(rows.map((row) => ({ name: row.name.replace(/\.(ts|js)$/, ''), times: row.times })), expected.map((migration) => ({ name: migration, times: 1 })));
    } finally {
      await db.end();
    }

    const applied = processes.map((appProcess) => /applied migrations: (.*)/.exec(appProcess.output())?.[1]);
    assert.equal(applied.filter(Boolean).length, 1, `exactly one process applied them:\n${processes.map((appProcess) => `${appProcess.name}: ${appProcess.output()}`).join('\n')}`);
    const names = applied.find(Boolean)!.split(', ').map((migration) => migration.replace(/\.(ts|js)$/, '')).sort();
    assert.deepEqual(names, committedMigrations(), 'all of them, in one go');
    for (const appProcess of processes) assert.equal((await fetch(`${appProcess.url}/`)).status, 200, `${appProcess.name} serves the home page`);
  });

  test('SIGTERM lets each process finish its shutdown (workers and pools stopped, exit code 0)', async () => {
    for (const appProcess of processes) {
      assert.equal(await appProcess.stop(), 0, `${appProcess.name}:\n${appProcess.output()}`);
      assert.match(appProcess.output(), /stopped/, `${appProcess.name} logged the end of its shutdown`);
    }
  });
});

describe('two app processes on one database behave as one', () => {
  const processes: AppProcess[] = [];
  // Registered before the app's own hooks: after() hooks run in order, so the processes stop before the database goes.
  after(() => stopAll(processes));
  const t = useTestApp({ clock: new ManualClock(new Date()), env: { SESSION_SECRET, SERVICE_HOURS: '00:00-24:00' } });
  const front = new FrontProxy();
  let processA: AppProcess;
  let processB: AppProcess;
  before(async () => {
    processes.push(...(await Promise.all(['A', 'B'].map((label) => spawnAppProcess(label, siteEnv(t.databaseUrl, t.dataDir))))));
    [processA, processB] = processes as [AppProcess, AppProcess];
    await Promise.all(processes.map((appProcess) => appProcess.ready()));
  });

  /** The test app with its requests sent through the front proxy to whichever process it names. */
  const viaFront = (): TestApp => ({ app: front.app, services: t.services, clock: t.clock, databaseUrl: t.databaseUrl, dataDir: t.dataDir, close: async () => {} });
  // registerActive reads only the site's test app (its services and clock): people are seeded through the module APIs.
  const register = () => registerActive({ t } as LoginSite);
  const masked = (idNumber: string) => `${idNumber.slice(0, 6)}****`;
  const lockRow = async (idNumber: string) =>
    (await t.services.orm.em.fork().getConnection().execute(`select consecutive_failures, locked_at from login_lockout where id_number = ?`, [idNumber]))[0] as
      | { consecutive_failures: number; locked_at: Date | null }
      | undefined;

  test('a session from a login on process A works on process B, and logging out on B ends it on A', async () => {
    const { card } = await register();
    front.sendTo(processA);
    const browser = await citizenLogIn(viaFront(), card);

    front.sendTo(processB);
    const menu = await browser.get('/account');
    assert.equal(menu.url, '/account', front.answeredBy.join('\n'));
    assert.equal(menu.status, 200);
    assert.match(menu.$('.signed-in-as').text(), new RegExp(`${card.sim.idNumber.slice(0, 6)}\\*{4}`));

    const loggedOut = await browser.submit({}, 'form.logout-form');
    assert.equal(loggedOut.url, '/?login=logged-out');
    front.sendTo(processA);
    assert.equal((await browser.get('/account')).url, '/?login=required', 'the session ended for every process');
  });

  test(`${LOCKOUT} wrong passwords, alternately on A and B, lock the card: then even the right password is refused on both`, async () => {
    const { card } = await register();
    const idNumber = card.sim.idNumber;
    const browser = new BrowserAgent(front.app, { 'X-Forwarded-For': '203.0.113.30' });
    front.sendTo(processA);
    await browser.get('/');
    await readInto(viaFront(), browser, card, 'login');
    // The card read stays in the session (in PostgreSQL) for every try, on whichever process.
    const tryPassword = async (on: AppProcess, password: string): Promise<Page> => {
      front.sendTo(on);
      await browser.get('/');
      return browser.submit({ password }, 'form.login-form');
    };

    let wrong: Page | undefined;
    for (let attempt = 0; attempt < LOCKOUT; attempt++) {
      wrong = await tryPassword(attempt % 2 === 0 ? processA : processB, `Wrong#${attempt}00`);
      assert.equal(wrong.status, 400);
      assert.match(wrong.$('#password-error').text(), new RegExp(WRONG), `try ${attempt + 1}: ${wrong.$('.error-summary').text()}`);
      assert.equal((await lockRow(idNumber))?.consecutive_failures, attempt + 1, `try ${attempt + 1} counted once, wherever it was made`);
    }
    assert.ok((await lockRow(idNumber))?.locked_at, `the ${LOCKOUT}th wrong password in a row locks`);

    for (const on of [processA, processB]) {
      const right = await tryPassword(on, PASSWORD);
      assert.equal(right.status, wrong!.status, `${on.name}: the same status`);
      assert.equal(right.url, '/login', `${on.name}: not logged in`);
      assert.equal(right.$('.error-summary').html(), wrong!.$('.error-summary').html(), `${on.name}: the same message as a wrong password`);
    }
    assert.equal((await browser.get('/account')).url, '/?login=required');
    const state = await t.services.api.credentials.lockState(idNumber);
    assert.deepEqual({ locked: state.locked, consecutiveFailures: state.consecutiveFailures }, { locked: true, consecutiveFailures: LOCKOUT }, 'tries while locked do not count');
  });

  test('a device code generated on A\'s 行動裝置認證 page binds a device through the app API on B, and only once', async () => {
    const { card } = await register();
    front.sendTo(processA);
    const browser = await citizenLogIn(viaFront(), card);
    const { code } = await generateDeviceCode(browser);
    assert.match(code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/);

    const phone = appClient(front.app, { address: freshAddress() });
    const device = newDevice();
    front.sendTo(processB);
    const bound = await phone.bind({ code, ...device });
    assert.equal(bound.status, 201, bound.text);
    assert.equal(bound.body.account, masked(card.sim.idNumber));

    front.sendTo(processA);
    const again = await phone.bind({ code, ...newDevice('Pixel 9') });
    assert.equal(again.status, 400, again.text);
    assert.equal(again.body.error, 'invalid_code', 'the code was used up on B');

    // The device token from B logs the app in on A, and A's access token lists the device on B.
    const session = await phone.login({ idNumber: card.sim.idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken: bound.body.deviceToken });
    assert.equal(session.status, 200, session.text);
    front.sendTo(processB);
    const listed = await phone.devices(session.body.accessToken);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body.devices.map((listedDevice: { deviceId: string; status: string }) => [listedDevice.deviceId, listedDevice.status]), [[device.deviceId, 'active']]);
  });

  test(`the login limit counts posts to A and B together: past ${LOGIN_LIMIT} a minute from one address, both answer 429`, async () => {
    const address = '203.0.113.50';
    const browser = new BrowserAgent(front.app, { 'X-Forwarded-For': address });
    front.sendTo(processA);
    const home = await browser.get('/');
    const csrf = home.$('form.login-form input[name=_csrf]').val()?.toString();
    assert.ok(csrf, 'the login form carries its CSRF token');
    const post = (on: AppProcess) => {
      front.sendTo(on);
      return browser.post('/login', { _csrf: csrf, password: 'Wrong#123' });
    };

    // Half of the limit on each process: a count per process would never reach it.
    for (let attempt = 0; attempt < LOGIN_LIMIT; attempt++) {
      const checked = await post(attempt % 2 === 0 ? processA : processB);
      assert.equal(checked.status, 400, `post ${attempt + 1} of ${LOGIN_LIMIT} is checked (no card read: 400)`);
    }
    for (const on of [processA, processB]) {
      const refused = await post(on);
      assert.equal(refused.status, 429, `${on.name} refuses post ${LOGIN_LIMIT + 1} and later`);
      assert.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After');
    }

    const other = new BrowserAgent(front.app, { 'X-Forwarded-For': '203.0.113.51' });
    front.sendTo(processB);
    await other.get('/');
    assert.equal((await other.submit({ password: 'Wrong#123' }, 'form.login-form')).status, 400, 'another address still has its own count');
  });

  test(`with the mail worker of both processes running, ${MAILS} queued mails each reach their recipient exactly once`, { timeout: 60_000 }, async () => {
    const batch = `processes-${randomBytes(4).toString('hex')}`;
    const recipients = Array.from({ length: MAILS }, (_v, i) => `${batch}-${i}@example.com.tw`);
    const requests: EnqueueRequest<'registration-confirmation'>[] = recipients.map((to, i) => ({
      template: 'registration-confirmation',
      locale: 'zh-TW',
      to,
      idempotencyKey: `${batch}:${i}`,
      data: { linkPath: `/register/confirm?token=${batch}-${i}`, expiresAt: new Date(Date.now() + 5 * 24 * 3600_000) },
    }));
    // One transaction: every mail becomes due at the same moment for both workers.
    await t.services.orm.em.fork().transactional((tx) => t.services.mail.enqueueMany(tx, requests));

    const ours = () => smtp.messages.filter((mail) => mail.to.includes(batch));
    const deadline = Date.now() + 30_000;
    while (ours().length < MAILS) {
      assert.ok(Date.now() < deadline, `only ${ours().length} of ${MAILS} mails arrived within 30 s`);
      await sleep(100);
    }
    // Two more polls of each worker: a second copy of any mail would have come by now.
    await sleep(2500);

    const arrived = ours();
    assert.equal(arrived.length, MAILS, 'no mail twice');
    assert.deepEqual(arrived.map((mail) => mail.to).sort(), [...recipients].sort(), 'each recipient once');
    assert.equal(new Set(arrived.map((mail) => mail.messageId)).size, MAILS, 'distinct messages');

    const db = t.services.orm.em.fork().getConnection();
    const outbox = await db.execute<{ id: string; status: string; attempts: number }[]>(`select id, status, attempts from outbox_message where idempotency_key like ?`, [`${batch}:%`]);
    assert.equal(outbox.length, MAILS);
    assert.deepEqual([...new Set(outbox.map((row) => `${row.status} after ${row.attempts} attempt(s)`))], ['sent after 1 attempt(s)']);

    // Each process logs the mails it sent: together they sent every one, no mail by both, and both took part.
    const ids = new Set(outbox.map((row) => row.id));
    const sentBy = processes.map((appProcess) => [...appProcess.output().matchAll(/mail ([0-9a-f-]{36}) \(registration-confirmation\) sent/g)].map((match) => match[1]!).filter((id) => ids.has(id)));
    assert.equal(sentBy.flat().length, MAILS, 'each mail sent by one process only');
    assert.deepEqual(new Set(sentBy.flat()), ids);
    assert.ok(sentBy.every((sent) => sent.length > 0), `both workers delivered (A ${sentBy[0]!.length}, B ${sentBy[1]!.length})`);
  });
});
