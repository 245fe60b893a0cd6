import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { entities } from '../../src/entities.js';
import { AuditEventSchema, AuditLog } from '../../src/platform/audit/index.js';
import { createOrm } from '../../src/platform/db/index.js';
import { createMail, messageIdFor, OutboxMessageSchema, type EnqueueRequest } from '../../src/platform/mail/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { TestSmtpServer } from '../helpers/smtp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function confirmation(key: string, to = 'person@example.com'): EnqueueRequest<'registration-confirmation'> {
  return {
    template: 'registration-confirmation',
    locale: 'zh-TW',
    to,
    idempotencyKey: key,
    data: { linkPath: `/register/confirm?token=${encodeURIComponent(key)}`, expiresAt: new Date('2026-03-07T04:00:00Z') },
  };
}

describe('mail outbox and worker', () => {
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
  beforeEach(() => {
    smtp.messages.length = 0;
  });

  const em = () => t.services.orm.em.fork();
  const row = (key: string) => em().findOneOrFail(OutboxMessageSchema, { idempotencyKey: key });
  const enqueue = (request: EnqueueRequest<'registration-confirmation'>) =>
    em().transactional((tx) => t.services.mail.enqueue(tx, request));

  test('a mail queued in a transaction that rolls back is never sent', async () => {
    await assert.rejects(
      em().transactional(async (tx) => {
        const queued = await t.services.mail.enqueue(tx, confirmation('rollback:1'));
        assert.equal(queued.created, true);
        throw new Error('the registration failed');
      }),
      /the registration failed/,
    );
    const result = await t.services.mailWorker.runOnce();
    assert.equal(result.sent, 0);
    assert.equal(await em().count(OutboxMessageSchema, { idempotencyKey: 'rollback:1' }), 0);

    // The same mail in a transaction that commits is delivered: the worker is not simply idle.
    await enqueue(confirmation('rollback:2'));
    assert.equal((await t.services.mailWorker.runOnce()).sent, 1);
    await smtp.waitFor(1);
    await sleep(200);
    assert.equal(smtp.messages.length, 1);
    assert.ok(smtp.messages[0]!.text.includes('token=rollback%3A2'));
  });

  test('while the SMTP server is down the mail waits, then it is delivered exactly once', async () => {
    const port = smtp.port;
    await smtp.stop();
    try {
      const key = 'outage:1';
      await enqueue(confirmation(key));
      const worker = t.services.mailWorker;

      assert.deepEqual(await worker.runOnce(), { sent: 0, retried: 1, failed: 0, inDoubt: 0 });
      let r = await row(key);
      assert.equal(r.status, 'pending');
      assert.equal(r.attempts, 1);
      assert.equal(r.nextAttemptAt.getTime(), t.clock.now().getTime() + 5000);
      assert.match(r.lastError ?? '', /ECONNREFUSED/);
      assert.ok(!(r.lastError ?? '').includes('token'), 'the error never carries the payload');

      // Not due yet: nothing is tried.
      assert.deepEqual(await worker.runOnce(), { sent: 0, retried: 0, failed: 0, inDoubt: 0 });
      t.clock.advance(5000);
      assert.equal((await worker.runOnce()).retried, 1);
      r = await row(key);
      assert.equal(r.attempts, 2);
      assert.equal(r.nextAttemptAt.getTime(), t.clock.now().getTime() + 10_000, 'the delay doubles');
    } finally {
      await smtp.start(port);
    }
    t.clock.advance(10_000);
    for (let i = 0; i < 3; i++) await t.services.mailWorker.runOnce();
    await smtp.waitFor(1);
    await sleep(300);
    assert.equal(smtp.messages.length, 1);
    const r = await row('outage:1');
    assert.equal(r.status, 'sent');
    assert.equal(r.attempts, 3);
    assert.ok(r.sentAt);
    assert.equal(r.messageId, smtp.messages[0]!.messageId);
  });

  test('two workers on the same database deliver each queued mail exactly once', async () => {
    const N = 40;
    const keys = Array.from({ length: N }, (_, i) => `concurrent:${i}`);
    await em().transactional(async (tx) => {
      for (const key of keys) await t.services.mail.enqueue(tx, confirmation(key, `p${keys.indexOf(key)}@example.com`));
    });
    // A second mailer with its own ORM and connection pool, as a second app process would have.
    const orm2 = await createOrm({ url: t.databaseUrl, entities });
    const second = createMail({ config: t.services.config, orm: orm2, clock: t.clock, audit: new AuditLog(t.clock, Buffer.alloc(32)) });
    try {
      const drain = async (worker: ReturnType<typeof second.mailer.createWorker>) => {
        let sent = 0;
        for (;;) {
          const r = await worker.runOnce();
          if (r.sent + r.retried + r.failed === 0) return sent;
          sent += r.sent;
        }
      };
      const [a, b] = await Promise.all([
        drain(t.services.mail.createWorker({ batchSize: 1 })),
        drain(second.mailer.createWorker({ batchSize: 1 })),
      ]);
      assert.equal(a + b, N);
      assert.ok(a > 0 && b > 0, `both workers delivered (${a} + ${b})`);
    } finally {
      await second.close();
      await orm2.close(true);
    }
    await smtp.waitFor(N);
    await sleep(300);
    assert.equal(smtp.messages.length, N);
    const ids = new Set(smtp.messages.map((m) => m.messageId));
    assert.deepEqual(ids, new Set(keys.map((k) => messageIdFor(k, t.services.config.publicOrigin))));
    const rows = await em().find(OutboxMessageSchema, { idempotencyKey: { $in: keys } });
    assert.ok(rows.every((r) => r.status === 'sent' && r.attempts === 1));
  });

  test('the same idempotency key queues one mail, whose Message-ID derives from the key', async () => {
    const key = 'registration-confirmation:reg-42:1';
    await em().transactional(async (tx) => {
      const first = await t.services.mail.enqueue(tx, confirmation(key));
      const again = await t.services.mail.enqueue(tx, confirmation(key));
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.id, first.id);
    });
    const later = await enqueue(confirmation(key));
    assert.equal(later.created, false);
    assert.equal(await em().count(OutboxMessageSchema, { idempotencyKey: key }), 1);

    await t.services.mailWorker.runOnce();
    await enqueue(confirmation(key));
    await t.services.mailWorker.runOnce();
    await smtp.waitFor(1);
    await sleep(300);
    assert.equal(smtp.messages.length, 1);
    const expected = messageIdFor(key, 'http://localhost:3000');
    assert.match(expected, /^<[0-9a-f]{32}@localhost>$/);
    assert.equal(smtp.messages[0]!.messageId, expected);
    assert.equal((await row(key)).messageId, expected);
  });

  test('the background worker delivers on its own and stops cleanly', async () => {
    t.services.startBackground();
    try {
      await enqueue(confirmation('background:1'));
      await smtp.waitFor(1, 5000);
    } finally {
      await t.services.mailWorker.stop();
    }
    assert.equal((await row('background:1')).status, 'sent');
    await enqueue(confirmation('background:2'));
    await sleep(1500);
    assert.equal((await row('background:2')).status, 'pending', 'nothing runs after stop()');
    assert.equal((await t.services.mailWorker.runOnce()).sent, 1);
  });

  test('a payload with a password is refused', async () => {
    await assert.rejects(
      em().transactional((tx) =>
        t.services.mail.enqueue(tx, {
          ...confirmation('password:1'),
          data: { linkPath: '/x', expiresAt: new Date(), password: 'secret' } as never,
        }),
      ),
      /password/,
    );
  });

  test('a permanent 5xx refusal fails at once, a 4xx is retried, and retries end after the limit', async () => {
    // A server that answers RCPT TO with 550 for "gone@" and 451 for "busy@".
    const rejecting = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        const code = address.address.startsWith('gone@') ? 550 : address.address.startsWith('busy@') ? 451 : 0;
        if (!code) return callback();
        callback(Object.assign(new Error(code === 550 ? 'no such user' : 'try later'), { responseCode: code }));
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    await new Promise<void>((resolve) => rejecting.listen(0, '127.0.0.1', () => resolve()));
    const port = (rejecting.server.address() as AddressInfo).port;
    const mail = createMail({
      config: { ...t.services.config, smtpUrl: `smtp://127.0.0.1:${port}` },
      orm: t.services.orm,
      clock: t.clock,
      audit: t.services.audit,
    });
    try {
      const worker = mail.mailer.createWorker({ maxAttempts: 2 });
      await enqueue(confirmation('reject:gone', 'gone@example.com'));
      await enqueue(confirmation('reject:busy', 'busy@example.com'));
      assert.deepEqual(await worker.runOnce(), { sent: 0, retried: 1, failed: 1, inDoubt: 0 });

      const gone = await row('reject:gone');
      assert.equal(gone.status, 'failed');
      assert.equal(gone.attempts, 1);
      assert.match(gone.lastError ?? '', /550/);
      const audits = await em().find(AuditEventSchema, { action: 'mail.failed', subject: gone.id });
      assert.equal(audits.length, 1);

      assert.equal((await row('reject:busy')).status, 'pending');
      t.clock.advance(5000);
      assert.equal((await worker.runOnce()).failed, 1, 'the second 4xx reaches maxAttempts');
      const busy = await row('reject:busy');
      assert.equal(busy.status, 'failed');
      assert.equal(busy.attempts, 2);
      assert.equal(await em().count(AuditEventSchema, { action: 'mail.failed', subject: busy.id }), 1);
    } finally {
      await mail.close();
      await new Promise<void>((resolve) => rejecting.close(() => resolve()));
    }
  });

  test('enqueueMany queues a batch at once: each key once, keys queued before (committed or not) left alone, delivered as enqueue delivers', async () => {
    const earlier = await enqueue(confirmation('many:1', 'many1@example.com'));
    const results = await em().transactional(async (tx) => {
      const unflushed = await t.services.mail.enqueue(tx, confirmation('many:2', 'many2@example.com'));
      const batch = await t.services.mail.enqueueMany(tx, [
        confirmation('many:1', 'many1@example.com'),
        confirmation('many:2', 'many2@example.com'),
        confirmation('many:3', 'many3@example.com'),
        confirmation('many:4', 'many4@example.com'),
        confirmation('many:3', 'many3@example.com'),
      ]);
      assert.equal(batch[1]!.id, unflushed.id, 'the one queued earlier in this unit of work');
      return batch;
    });
    assert.deepEqual(results.map((r) => r.created), [false, false, true, true, false]);
    assert.equal(results[0]!.id, earlier.id);
    assert.equal(results[4]!.id, results[2]!.id, 'a key given twice is queued once');
    for (const key of ['many:1', 'many:2', 'many:3', 'many:4']) assert.equal(await em().count(OutboxMessageSchema, { idempotencyKey: key }), 1, key);
    const third = await row('many:3');
    assert.equal(third.id, results[2]!.id);
    assert.equal(third.status, 'pending');
    assert.equal(third.attempts, 0);
    assert.equal(third.template, 'registration-confirmation');
    assert.equal(third.recipient, 'many3@example.com');
    assert.equal(third.nextAttemptAt.getTime(), t.clock.now().getTime());
    assert.deepEqual(third.payload, { linkPath: '/register/confirm?token=many%3A3', expiresAt: '2026-03-07T04:00:00.000Z' }, 'dates stored as enqueue stores them');
    assert.equal(third.attachments ?? null, null);

    assert.equal((await t.services.mailWorker.runOnce()).sent, 4);
    await smtp.waitFor(4);
    await sleep(200);
    assert.equal(smtp.messages.length, 4);
    const many3 = smtp.messages.find((m) => m.to.includes('many3@example.com'))!;
    assert.ok(many3.text.includes('token=many%3A3'));
    assert.equal(many3.messageId, messageIdFor('many:3', 'http://localhost:3000'));
  });

  test('enqueueMany refuses the whole batch for one bad request, and a rolled-back batch is never sent', async () => {
    const good = confirmation('bad-batch:1');
    const refusals: [EnqueueRequest<'registration-confirmation'>, RegExp][] = [
      [confirmation('bad-batch:2', 'not an address'), /recipient/],
      [{ ...confirmation('bad-batch:2'), data: { linkPath: '/x', expiresAt: new Date(), password: 'secret' } as never }, /password/],
      [{ ...confirmation('bad-batch:2'), template: 'no-such-template' as never }, /unknown mail template/],
      [confirmation(''), /idempotencyKey/],
    ];
    for (const [bad, reason] of refusals) {
      await assert.rejects(em().transactional((tx) => t.services.mail.enqueueMany(tx, [good, bad])), reason);
    }
    await assert.rejects(
      em().transactional(async (tx) => {
        await t.services.mail.enqueueMany(tx, [good]);
        throw new Error('the batch failed');
      }),
      /the batch failed/,
    );
    assert.equal(await em().count(OutboxMessageSchema, { idempotencyKey: { $like: 'bad-batch:%' } }), 0);
    assert.deepEqual(await em().transactional((tx) => t.services.mail.enqueueMany(tx, [])), []);
  });
});
