import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { entities } from '../../src/entities.js';
import { ManualClock } from '../../src/platform/clock.js';
import { createOrm, type Orm } from '../../src/platform/db/index.js';
import { LinkTokenSchema, LinkTokens } from '../../src/platform/tokens/index.js';
import { createTestDatabase } from '../helpers/db.js';

const FIVE_DAYS = 5 * 24 * 60 * 60 * 1000;

describe('e-mailed link tokens', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let orm: Orm;
  const clock = new ManualClock('2026-05-01T00:00:00Z');
  const tokens = new LinkTokens(clock);

  /** Issues in a transaction of its own, as a registration would alongside its change and outbox mail. */
  async function issue(subject: string, purpose = 'registration', ttlMs = FIVE_DAYS): Promise<string> {
    return orm.em.fork().transactional((tx) => tokens.issue(tx, { purpose, subject, ttlMs }));
  }
  const check = (token: string, purpose = 'registration') => tokens.check(orm.em.fork(), purpose, token);
  const consume = (token: string, purpose = 'registration') =>
    orm.em.fork().transactional((tx) => tokens.consume(tx, purpose, token));

  before(async () => {
    database = await createTestDatabase();
    orm = await createOrm({ url: database.url, entities });
  });
  after(async () => {
    await orm.close(true);
    await database.drop();
  });

  test('a link works once: valid for its subject, then used', async () => {
    const token = await issue('A123456789');
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await check(token), { status: 'valid', subject: 'A123456789', expiresAt: new Date('2026-05-06T00:00:00Z') });
    assert.deepEqual(await consume(token), { status: 'valid', subject: 'A123456789', expiresAt: new Date('2026-05-06T00:00:00Z') });
    assert.deepEqual(await consume(token), { status: 'used' });
    assert.deepEqual(await check(token), { status: 'used' });
  });

  test('still valid just before the five days are up, expired one second after', async () => {
    clock.set('2026-05-01T00:00:00Z');
    const token = await issue('B223456789');
    clock.advance(FIVE_DAYS - 1000);
    assert.equal((await check(token)).status, 'valid');
    clock.set('2026-05-01T00:00:00Z');
    clock.advance(FIVE_DAYS + 1000);
    assert.deepEqual(await check(token), { status: 'expired' });
    assert.deepEqual(await consume(token), { status: 'expired' });
    clock.set('2026-05-01T00:00:00Z');
  });

  test('a new link makes the earlier one superseded; the new one works', async () => {
    const first = await issue('C123456789');
    const second = await issue('C123456789');
    assert.deepEqual(await check(first), { status: 'superseded' });
    assert.deepEqual(await consume(first), { status: 'superseded' });
    assert.equal((await consume(second)).status, 'valid');
  });

  test('a used link stays used when a newer one is issued', async () => {
    const first = await issue('C223456789');
    await consume(first);
    await issue('C223456789');
    assert.deepEqual(await check(first), { status: 'used' });
  });

  test('the database holds only the hash, never the token', async () => {
    const token = await issue('D123456789');
    const rows = await orm.em.fork().getConnection().execute(`select * from link_token where subject = 'D123456789'`);
    assert.equal(rows.length, 1);
    assert.doesNotMatch(JSON.stringify(rows), new RegExp(token));
    assert.equal(String(rows[0].hash).length, 43);
  });

  test('a token of another purpose, a made-up one and a malformed one are unknown', async () => {
    const token = await issue('E123456789', 'password-reset');
    assert.deepEqual(await check(token, 'registration'), { status: 'unknown' });
    assert.deepEqual(await consume(token, 'registration'), { status: 'unknown' });
    // The wrong-purpose attempt did not use it up.
    assert.equal((await check(token, 'password-reset')).status, 'valid');
    assert.deepEqual(await check('A'.repeat(43)), { status: 'unknown' });
    assert.deepEqual(await check(`${token.slice(0, 42)}=`), { status: 'unknown' });
    assert.deepEqual(await consume("'; drop table link_token; --"), { status: 'unknown' });
    assert.deepEqual(await check(''), { status: 'unknown' });
  });

  test('two concurrent consumes of one link: exactly one is valid, the other used', async () => {
    const token = await issue('F123456789');
    const results = await Promise.all([consume(token), consume(token)]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['used', 'valid']);
  });

  test('supersedeAll voids every open link of that purpose for the subject, and no other', async () => {
    const registration = await issue('G123456789');
    const reset = await issue('G123456789', 'password-reset');
    const someoneElse = await issue('G223456789');
    await orm.em.fork().transactional((tx) => tokens.supersedeAll(tx, 'registration', 'G123456789'));
    assert.deepEqual(await check(registration), { status: 'superseded' });
    assert.equal((await check(reset, 'password-reset')).status, 'valid');
    assert.equal((await check(someoneElse)).status, 'valid');
  });

  test('a token issued in a transaction that rolls back never works', async () => {
    let token = '';
    await assert.rejects(orm.em.fork().transactional(async (tx) => {
      token = await tokens.issue(tx, { purpose: 'registration', subject: 'H123456789', ttlMs: FIVE_DAYS });
      throw new Error('the registration failed');
    }));
    assert.deepEqual(await check(token), { status: 'unknown' });
  });

  test('housekeeping removes tokens expired before the given time, and keeps the rest', async () => {
    clock.set('2026-06-01T00:00:00Z');
    const short = await issue('J123456789', 'registration', 60_000);
    const long = await issue('J223456789');
    const removed = await tokens.deleteExpiredBefore(orm.em.fork(), new Date('2026-06-02T00:00:00Z'));
    assert.ok(removed >= 1);
    assert.deepEqual(await check(short), { status: 'unknown' });
    assert.equal((await check(long)).status, 'valid');
    assert.equal(await orm.em.fork().count(LinkTokenSchema, { subject: 'J223456789' }), 1);
    clock.set('2026-05-01T00:00:00Z');
  });

  test('issueMany issues every link at once: each works once for its own subject; an earlier open link of a subject is superseded', async () => {
    const earlier = await issue('K123456789');
    const otherPurpose = await issue('K123456789', 'password-reset');
    const issued = await orm.em.fork().transactional((tx) =>
      tokens.issueMany(tx, [
        { purpose: 'registration', subject: 'K123456789', ttlMs: FIVE_DAYS },
        { purpose: 'registration', subject: 'K223456789', ttlMs: FIVE_DAYS },
        { purpose: 'registration', subject: 'K323456789', ttlMs: 60_000 },
      ]),
    );
    assert.equal(issued.length, 3);
    assert.equal(new Set(issued).size, 3);
    for (const token of issued) assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await check(earlier), { status: 'superseded' });
    assert.equal((await check(otherPurpose, 'password-reset')).status, 'valid', 'another purpose is left alone');
    assert.deepEqual(await check(issued[0]!), { status: 'valid', subject: 'K123456789', expiresAt: new Date('2026-05-06T00:00:00Z') });
    assert.deepEqual(await check(issued[2]!), { status: 'valid', subject: 'K323456789', expiresAt: new Date('2026-05-01T00:01:00Z') });
    assert.deepEqual(await consume(issued[1]!), { status: 'valid', subject: 'K223456789', expiresAt: new Date('2026-05-06T00:00:00Z') });
    assert.deepEqual(await consume(issued[1]!), { status: 'used' });
    const rows = await orm.em.fork().getConnection().execute<{ hash: string }[]>(`select * from link_token where subject in ('K123456789', 'K223456789', 'K323456789') and purpose = 'registration'`);
    assert.equal(rows.length, 4);
    for (const token of issued) assert.doesNotMatch(JSON.stringify(rows), new RegExp(token.replace(/[-_]/g, '.')));
    assert.ok(rows.every((r) => r.hash.length === 43));
  });

  test('issueMany: a subject given twice keeps only the later link; a bad request writes nothing; a rollback leaves none', async () => {
    const [first, second] = await orm.em.fork().transactional((tx) =>
      tokens.issueMany(tx, [
        { purpose: 'registration', subject: 'L123456789', ttlMs: FIVE_DAYS },
        { purpose: 'registration', subject: 'L123456789', ttlMs: FIVE_DAYS },
      ]),
    );
    assert.deepEqual(await check(first!), { status: 'superseded' });
    assert.equal((await check(second!)).status, 'valid');
    await assert.rejects(
      orm.em.fork().transactional((tx) =>
        tokens.issueMany(tx, [
          { purpose: 'registration', subject: 'L223456789', ttlMs: FIVE_DAYS },
          { purpose: 'registration', subject: '', ttlMs: FIVE_DAYS },
        ]),
      ),
      /subject/,
    );
    assert.equal(await orm.em.fork().count(LinkTokenSchema, { subject: 'L223456789' }), 0);
    let rolledBack: string[] = [];
    await assert.rejects(orm.em.fork().transactional(async (tx) => {
      rolledBack = await tokens.issueMany(tx, [{ purpose: 'registration', subject: 'L323456789', ttlMs: FIVE_DAYS }]);
      throw new Error('the batch failed');
    }));
    assert.deepEqual(await check(rolledBack[0]!), { status: 'unknown' });
    assert.deepEqual(await orm.em.fork().transactional((tx) => tokens.issueMany(tx, [])), []);
  });
});
