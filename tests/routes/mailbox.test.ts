import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { buildTestApp, useTestApp, type TestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';

async function queueConfirmation(t: TestApp, key: string, token: string): Promise<void> {
  await t.services.orm.em.fork().transactional((tx) =>
    t.services.mail.enqueue(tx, {
      template: 'registration-confirmation',
      locale: 'zh-TW',
      to: 'person@example.com',
      idempotencyKey: key,
      data: { linkPath: `/register/confirm?token=${token}`, expiresAt: new Date('2026-03-07T04:00:00Z') },
    }),
  );
}

describe('local mailbox (development, SMTP_URL unset)', () => {
  const t = useTestApp();

  test('a queued mail appears in the mailbox and its page shows the link', async () => {
    await queueConfirmation(t, 'mailbox:1', 'tok1');
    assert.equal((await t.services.mailWorker.runOnce()).sent, 1);

    const browser = new BrowserAgent(t.app);
    const list = await browser.get('/dev/mailbox');
    assert.equal(list.status, 200);
    const row = list.$('table.mailbox tbody tr');
    assert.equal(row.length, 1);
    assert.ok(row.text().includes('person@example.com'));
    assert.ok(row.text().includes('健保卡網路服務註冊-認證通知信'));

    const message = await browser.get(list.$('table.mailbox a').attr('href')!);
    assert.equal(message.status, 200);
    assert.equal(message.$('h1').text(), '健保卡網路服務註冊-認證通知信');
    const link = message.$('pre.mail-text a').first();
    assert.equal(link.attr('href'), 'http://localhost:3000/register/confirm?token=tok1');
    assert.ok(message.$('pre.mail-text').text().includes('民國115年3月7日 12:00:00'));
    // Kept under DATA_DIR, never under public/.
    assert.equal(readdirSync(join(t.dataDir, 'mailbox')).filter((f) => f.endsWith('.json')).length, 1);
  });

  test('message ids are validated strictly', async () => {
    for (const id of ['..%2F..%2Fpg.secret', '1234', '0000000000000-zzzzzzzz', '0000000000000-00000000']) {
      assert.equal((await request(t.app).get(`/dev/mailbox/${id}`)).status, 404, id);
    }
  });

  test('clearing needs the CSRF token; with it the mailbox is emptied', async () => {
    await queueConfirmation(t, 'mailbox:2', 'tok2');
    await t.services.mailWorker.runOnce();
    const before = (await new BrowserAgent(t.app).get('/dev/mailbox')).$('table.mailbox tbody tr').length;
    assert.ok(before >= 1);

    const forged = await request(t.app).post('/dev/mailbox/clear').type('form').send({});
    assert.equal(forged.status, 403);
    assert.equal((await new BrowserAgent(t.app).get('/dev/mailbox')).$('table.mailbox tbody tr').length, before);

    const browser = new BrowserAgent(t.app);
    await browser.get('/dev/mailbox');
    const cleared = await browser.submit({}, 'form.clear');
    assert.equal(cleared.status, 200);
    assert.equal(cleared.url, '/dev/mailbox');
    assert.equal(cleared.$('table.mailbox tbody tr').length, 0);
    assert.ok(cleared.$('main').text().includes('尚無郵件。'));
  });

  test('mail whose delivery is in doubt is listed for operators', async () => {
    await queueConfirmation(t, 'mailbox:doubt', 'tok3');
    // A claim whose worker never came back (as after a crash mid-send).
    await t.services.orm.em.fork().execute(
      `update outbox_message set status = 'sending', attempts = 1, lease_until = ? where idempotency_key = 'mailbox:doubt'`,
      [t.clock.now()],
    );
    t.clock.advance(1000);
    assert.equal((await t.services.mailWorker.runOnce()).inDoubt, 1);
    const page = await new BrowserAgent(t.app).get('/dev/mailbox');
    const section = page.$('section.in-doubt');
    assert.ok(section.text().includes('寄送狀態不明的郵件'));
    assert.ok(section.text().includes('registration-confirmation'));
    assert.equal(section.find('tbody tr').length, 1);
  });
});

describe('mailbox from another computer (not in INTRANET_ALLOW)', () => {
  const t = useTestApp({ env: { TRUST_PROXY: 'loopback' } });
  before(async () => {
    await queueConfirmation(t, 'mailbox:remote', 'remote-secret-token');
    assert.equal((await t.services.mailWorker.runOnce()).sent, 1);
  });

  // supertest connects from 127.0.0.1, a trusted proxy: X-Forwarded-For names the client the app sees.
  const from = (address: string) => ({ 'X-Forwarded-For': address });

  test('a client outside the allowed networks gets 404 and never sees the mail', async () => {
    const list = await request(t.app).get('/dev/mailbox').set(from('203.0.113.9'));
    assert.equal(list.status, 404);
    assert.ok(!list.text.includes('person@example.com'));
    assert.ok(!list.text.includes('remote-secret-token'));

    const [id] = readdirSync(join(t.dataDir, 'mailbox')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
    const message = await request(t.app).get(`/dev/mailbox/${id}`).set(from('203.0.113.9'));
    assert.equal(message.status, 404);
    assert.ok(!message.text.includes('remote-secret-token'));
    // The same message exists: from loopback its page shows the link.
    const local = await request(t.app).get(`/dev/mailbox/${id}`);
    assert.equal(local.status, 200);
    assert.ok(local.text.includes('remote-secret-token'));
  });

  test('from loopback, IPv4, IPv6 or IPv4-mapped IPv6, it works', async () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      const list = await new BrowserAgent(t.app, from(address)).get('/dev/mailbox');
      assert.equal(list.status, 200, address);
      assert.ok(list.$('table.mailbox tbody tr').text().includes('person@example.com'), address);
    }
  });

  test('an IPv4-mapped outside address is still outside', async () => {
    assert.equal((await request(t.app).get('/dev/mailbox').set(from('::ffff:203.0.113.9'))).status, 404);
  });

  test('clearing from outside is refused even with a valid CSRF token, and leaves the mail', async () => {
    const browser = new BrowserAgent(t.app);
    await browser.get('/dev/mailbox');
    const refused = await browser.submit({}, 'form.clear', from('203.0.113.9'));
    assert.equal(refused.status, 404);
    assert.equal((await new BrowserAgent(t.app).get('/dev/mailbox')).$('table.mailbox tbody tr').length, 1);
  });

  test('INTRANET_ALLOW widens it to the networks named', async () => {
    const lan = await buildTestApp({ env: { TRUST_PROXY: 'loopback', INTRANET_ALLOW: '127.0.0.1/8,::1,203.0.113.0/24' } });
    try {
      assert.equal((await request(lan.app).get('/dev/mailbox').set(from('203.0.113.9'))).status, 200);
      assert.equal((await request(lan.app).get('/dev/mailbox').set(from('198.51.100.7'))).status, 404);
    } finally {
      await lan.close();
    }
  });

  test('other pages are not affected by the mailbox check', async () => {
    assert.equal((await request(t.app).get('/healthz').set(from('203.0.113.9'))).status, 200);
    const home = await request(t.app).get('/').set(from('203.0.113.9'));
    assert.ok(home.status < 400, `home page answered ${home.status}`);
  });
});

describe('mailbox routes elsewhere', () => {
  test('are 404 in production', async () => {
    const t = await buildTestApp({
      env: { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), SMTP_URL: 'smtp://127.0.0.1:2525' },
    });
    try {
      assert.equal(t.services.config.env, 'production');
      assert.equal((await request(t.app).get('/dev/mailbox')).status, 404);
      assert.equal((await request(t.app).get('/dev/mailbox/0000000000000-00000000')).status, 404);
      // A POST meets the CSRF check before any route: refused either way, never a redirect.
      assert.ok([403, 404].includes((await request(t.app).post('/dev/mailbox/clear')).status));
    } finally {
      await t.close();
    }
  });

  test('are 404 in development when SMTP_URL is set', async () => {
    const t = await buildTestApp({ env: { SMTP_URL: 'smtp://127.0.0.1:2525' } });
    try {
      assert.equal((await request(t.app).get('/dev/mailbox')).status, 404);
    } finally {
      await t.close();
    }
  });
});
