import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestApp } from '../helpers/app.js';

// The daily housekeeping: rows kept only to answer "expired" or "used" for a while go once that while has passed.
describe('housekeeping', () => {
  const t = useTestApp();

  test('expired device codes, deletion requests, captcha uses and old links are deleted; recent ones stay', async () => {
    const now = t.clock.now();
    const ago = (days: number) => new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
    const db = t.services.orm.em.fork().getConnection();
    const hash = (n: number) => `${'h'.repeat(42)}${n}`;
    await db.execute(`insert into device_code (hash, id_number, created_at, expires_at) values (?, 'A123456789', ?, ?), (?, 'A123456789', ?, ?)`,
      [hash(1), ago(3), ago(3), hash(2), ago(0.001), now]);
    await db.execute(`insert into captcha_use (id, used_at) values ('old-captcha-0000000000', ?), ('new-captcha-0000000000', ?)`, [ago(2), now]);
    await db.execute(`insert into deletion_request (id_number, flow_id, code_hash, email, created_at, expires_at, failed_attempts) values
      ('A100000001', ?, ?, 'old@example.com', ?, ?, 0), ('A100000002', ?, ?, 'new@example.com', ?, ?, 0)`, ['f'.repeat(22), hash(5), ago(2), ago(2), 'g'.repeat(22), hash(6), now, now]);
    await db.execute(`insert into link_token (hash, purpose, subject, created_at, expires_at) values (?, 'confirm', 'A123456789', ?, ?), (?, 'confirm', 'A123456789', ?, ?)`,
      [hash(3), ago(40), ago(35), hash(4), ago(10), ago(5)]);
    for (const task of ['device-codes-cleanup', 'deletion-cleanup', 'link-tokens-cleanup']) {
      await t.services.orm.em.fork().transactional((em) => t.services.jobs.add(em, task, {}));
    }
    await t.services.jobs.runOnce();
    assert.deepEqual((await db.execute('select hash from device_code order by hash')).map((r) => r.hash), [hash(2)]);
    assert.deepEqual((await db.execute('select id_number from deletion_request')).map((r) => r.id_number), ['A100000002']);
    assert.deepEqual((await db.execute('select id from captcha_use')).map((r) => r.id), ['new-captcha-0000000000']);
    assert.deepEqual((await db.execute('select hash from link_token')).map((r) => r.hash), [hash(4)], 'a link expired 5 days ago still says "expired"');
  });

  test('the schedule is one graphile-worker accepts: the worker starts with it and stops', async () => {
    await t.services.jobs.start();
    await t.services.jobs.stop();
  });
});
