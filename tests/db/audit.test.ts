import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { AuditEventSchema, maskIdNumber, neutralise } from '../../src/platform/audit/index.js';

describe('audit log', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(async () => t.close());

  test('records who, what, when (UTC), from where and the outcome, in the caller\'s transaction', async () => {
    t.clock.set('2026-05-01T01:02:03Z');
    const em = t.services.orm.em.fork();
    await em.transactional(async (tx) => {
      t.services.audit.record(tx, {
        actorType: 'citizen', actorId: maskIdNumber('A123456789'), action: 'login', person: 'A123456789',
        outcome: 'failure', clientAddress: '203.0.113.9', detail: { reason: 'wrong password' },
      });
      // The same mask, another person: a search by person must not mix them up.
      t.services.audit.record(tx, { actorType: 'citizen', action: 'login', person: 'A123451234', outcome: 'success' });
    });
    const rows = await t.services.audit.recent(em, { person: 'A123456789' });
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.subject, 'A12345****', 'the table keeps the mask, never the ID number');
    assert.ok(!JSON.stringify(await em.getConnection().execute('select * from audit_event')).includes('A123456789'));
    assert.equal(row.actorId, 'A12345****');
    assert.equal(row.action, 'login');
    assert.equal(row.outcome, 'failure');
    assert.equal(row.clientAddress, '203.0.113.9');
    assert.equal(row.occurredAt.toISOString(), '2026-05-01T01:02:03.000Z');
    const raw = await em.getConnection().execute(`select occurred_at at time zone 'UTC' as utc from audit_event where id = ?`, [row.id]);
    assert.match(String(raw[0].utc instanceof Date ? raw[0].utc.toISOString() : raw[0].utc), /2026-05-01/);
  });

  test('a rolled-back change leaves no audit row', async () => {
    const em = t.services.orm.em.fork();
    await assert.rejects(em.transactional(async (tx) => {
      t.services.audit.record(tx, { actorType: 'system', action: 'rollback-probe', outcome: 'success' });
      await tx.flush();
      throw new Error('boom');
    }));
    assert.equal(await em.count(AuditEventSchema, { action: 'rollback-probe' }), 0);
  });

  test('control characters are neutralised and secrets are never stored', async () => {
    const em = t.services.orm.em.fork();
    await t.services.audit.recordNow(em, {
      actorType: 'anonymous', action: 'login\nforged line', subject: 'x\u0000y', outcome: 'refused',
      detail: { password: 'Secret#123', resetToken: 'abc', note: 'line1\r\nline2\u001b[31m' },
    });
    const [row] = await em.fork().find(AuditEventSchema, { outcome: 'refused' });
    assert.equal(row!.action, 'login\\u000aforged line');
    assert.equal(row!.subject, 'x\\u0000y');
    assert.equal(row!.detail!.password, '[withheld]');
    assert.equal(row!.detail!.resetToken, '[withheld]');
    assert.equal(row!.detail!.note, 'line1\\u000d\\u000aline2\\u001b[31m');
    const all = JSON.stringify(await em.getConnection().execute('select * from audit_event'));
    assert.doesNotMatch(all, /Secret#123/);
  });

  test('neutralise caps length', () => {
    assert.equal(neutralise('x'.repeat(500)).length, 200);
  });
});

describe('error pages', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(async () => t.close());

  test('a failure inside a page answers the 500 page with no internals', async () => {
    await t.services.orm.em.fork().getConnection().execute('drop table announcement');
    const { default: request } = await import('supertest');
    const res = await request(t.app).get('/');
    assert.equal(res.status, 500);
    assert.match(res.text, /系統發生錯誤/);
    assert.doesNotMatch(res.text, /announcement|relation|stack|\.ts:|node_modules/i);
  });
});
