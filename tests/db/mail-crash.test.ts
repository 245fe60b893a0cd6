import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AuditEventSchema } from '../../src/platform/audit/index.js';
import { OutboxMessageSchema } from '../../src/platform/mail/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { TestSmtpServer } from '../helpers/smtp.js';

const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A worker process of its own: the real SMTP transport, wrapped so that once the server has accepted
 * the message the process waits to be killed. That pins the crash to the dangerous instant (between
 * SMTP's 250 and the update recording it) instead of racing for it.
 */
const CHILD = `
const root = process.env.MAIL_CHILD_ROOT;
const { loadConfig } = await import(root + '/src/config.ts');
const { entities } = await import(root + '/src/entities.ts');
const { AuditLog } = await import(root + '/src/platform/audit/index.ts');
const { ManualClock } = await import(root + '/src/platform/clock.ts');
const { createOrm } = await import(root + '/src/platform/db/index.ts');
const { createMail, createMailTransport } = await import(root + '/src/platform/mail/index.ts');
const config = loadConfig(process.env);
const clock = new ManualClock(process.env.MAIL_CHILD_NOW);
const orm = await createOrm({ url: config.databaseUrl, entities });
const smtp = createMailTransport(config);
const transport = {
  kind: smtp.kind,
  close: smtp.close,
  async send(mail) {
    const info = await smtp.send(mail);
    process.stdout.write('accepted\\n');
    await new Promise((resolve) => setTimeout(resolve, 60000));
    return info;
  },
};
const { worker } = createMail({ config, orm, clock, audit: new AuditLog(clock, Buffer.alloc(32)), transport });
await worker.runOnce();
process.stdout.write('survived\\n');
await orm.close(true);
`;

describe('a mail worker killed mid-send', () => {
  const smtp = new TestSmtpServer();
  let t: TestApp;
  before(async () => {
    await smtp.start(0);
    t = await buildTestApp({ env: { SMTP_URL: smtp.url } });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  test('after SMTP accepted does not send it twice: the mail is in doubt, audited and listed', async () => {
    const key = 'registration-confirmation:crash:1';
    await t.services.orm.em.fork().transactional((tx) =>
      t.services.mail.enqueue(tx, {
        template: 'registration-confirmation',
        locale: 'zh-TW',
        to: 'person@example.com',
        idempotencyKey: key,
        data: { linkPath: '/register/confirm?token=t1', expiresAt: new Date('2026-03-07T04:00:00Z') },
      }),
    );

    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: root,
      env: {
        ...process.env,
        MAIL_CHILD_ROOT: root,
        MAIL_CHILD_NOW: t.clock.now().toISOString(),
        DATABASE_URL: t.databaseUrl,
        SMTP_URL: smtp.url,
        DATA_DIR: t.dataDir,
        PUBLIC_ORIGIN: t.services.config.publicOrigin,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    // The kill comes from the SMTP server the moment it has said 250.
    smtp.onAccepted = () => child.kill('SIGKILL');
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    smtp.onAccepted = undefined;
    assert.equal(exit.signal, 'SIGKILL', `the worker process was killed (output: ${output})`);
    assert.ok(!output.includes('survived'));
    assert.equal(smtp.messages.length, 1);

    const em = () => t.services.orm.em.fork();
    let row = await em().findOneOrFail(OutboxMessageSchema, { idempotencyKey: key });
    assert.equal(row.status, 'sending');
    assert.equal(row.attempts, 1);

    // Within the lease another worker leaves the row alone.
    assert.deepEqual(await t.services.mailWorker.runOnce(), { sent: 0, retried: 0, failed: 0, inDoubt: 0 });

    // Past the lease: in doubt, not resent.
    t.clock.advance(2 * 60_000 + 1000);
    assert.deepEqual(await t.services.mailWorker.runOnce(), { sent: 0, retried: 0, failed: 0, inDoubt: 1 });
    t.clock.advance(3600_000);
    for (let i = 0; i < 3; i++) await t.services.mailWorker.runOnce();
    await sleep(500);
    assert.equal(smtp.messages.length, 1, 'exactly one message was ever received');

    row = await em().findOneOrFail(OutboxMessageSchema, { idempotencyKey: key });
    assert.equal(row.status, 'in_doubt');
    const audits = await em().find(AuditEventSchema, { action: 'mail.in_doubt', subject: row.id });
    assert.equal(audits.length, 1);
    assert.deepEqual((await t.services.mail.listInDoubt()).map((m) => m.id), [row.id]);

    // Only an operator's requeue sends it again: the command lists it, then requeues it.
    const cli = (...args: string[]) => {
      const env = { ...process.env, DATABASE_URL: t.databaseUrl, DATA_DIR: t.dataDir, SMTP_URL: smtp.url };
      return new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn(process.execPath, ['--import', 'tsx', 'src/cli/mail.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d));
        c.stderr.on('data', (d: Buffer) => (out += d));
        c.on('exit', (code) => resolve({ code, out }));
      });
    };
    const listed = await cli('in-doubt');
    assert.equal(listed.code, 0, listed.out);
    assert.match(listed.out, new RegExp(`${row.id}  registration-confirmation`));
    assert.doesNotMatch(listed.out, /person@example\.com/, 'no address in the listing');
    const requeued = await cli('requeue', row.id);
    assert.equal(requeued.code, 0, requeued.out);
    t.clock.set(new Date(Date.now() + 1000)); // the command stamped the requeue with the real time
    assert.equal((await t.services.mailWorker.runOnce()).sent, 1);
    await smtp.waitFor(2);
    assert.equal((await em().findOneOrFail(OutboxMessageSchema, { id: row.id })).status, 'sent');
    assert.equal(await em().count(AuditEventSchema, { action: 'mail.requeued', subject: row.id }), 1);
    assert.deepEqual(await t.services.mail.listInDoubt(), []);
  });
});
