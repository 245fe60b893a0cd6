import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cardKeyPairFromSeed, generateSeed, signCardAssertion } from '../../src/agent/index.js';
import { CardReadService, CardRegistry, TerminalEnrolmentError } from '../../src/modules/cards/index.js';
import { TableHouseholdRegistry } from '../../src/modules/household/index.js';
import { ManualClock } from '../../src/platform/clock.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { insertTestCard, SERVER_ORIGIN, type TestCard } from '../helpers/card-reads.js';

// The card-read service on its own (no agent): the rules that a page flow cannot easily reach.
describe('card-read service', () => {
  let t: TestApp;
  let service: CardReadService;
  before(async () => {
    t = await buildTestApp({ clock: new ManualClock(new Date()) });
    const { orm, audit, readerTerminals } = t.services;
    service = new CardReadService({
      orm,
      clock: t.clock,
      audit,
      publicOrigin: SERVER_ORIGIN,
      cards: new CardRegistry(orm),
      persons: new TableHouseholdRegistry(orm),
      terminals: readerTerminals,
    });
  });
  after(async () => t?.close());
  beforeEach(() => t.clock.set(new Date()));

  const sign = (card: TestCard, r: { id: string; challenge: string }, over: object = {}) =>
    signCardAssertion({
      privateKeySeed: card.seed,
      kid: `card:${card.sim.cardNumber}`,
      payload: {
        v: 1,
        req: r.id,
        challenge: r.challenge,
        aud: SERVER_ORIGIN,
        iat: Math.floor(t.clock.now().getTime() / 1000),
        card: { number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn },
        ...over,
      },
    });
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await t.services.orm.em.fork().getConnection().execute(sql, params))[0].n);

  test('a flow bound to a person refuses another person’s card at the claim', async () => {
    const expected = await insertTestCard(t.services);
    const other = await insertTestCard(t.services);
    const r = await service.open({ sessionId: 's-bound', purpose: 'confirm', returnTo: '/confirm', expectedIdNumber: expected.sim.idNumber });
    assert.deepEqual(await service.receive(r.id, { assertion: await sign(other, r) }, '127.0.0.1'), { kind: 'verified', id: r.id });
    assert.deepEqual(await service.claim(r.id, 's-bound', '127.0.0.1'), { kind: 'failure', purpose: 'confirm', returnTo: '/confirm', failure: 'other_person' });

    const mine = await service.open({ sessionId: 's-bound', purpose: 'confirm', returnTo: '/confirm', expectedIdNumber: expected.sim.idNumber });
    assert.notEqual(mine.id, r.id);
    await service.receive(mine.id, { assertion: await sign(expected, mine) }, '127.0.0.1');
    const claimed = await service.claim(mine.id, 's-bound', '127.0.0.1');
    assert.equal(claimed.kind, 'card');
    assert.equal(claimed.kind === 'card' && claimed.card.idNumber, expected.sim.idNumber);
  });

  test('a pending request is reused per session, purpose and page until close to expiry; old rows are deleted', async () => {
    const a = await service.open({ sessionId: 's-reuse', purpose: 'login', returnTo: '/' });
    assert.equal((await service.open({ sessionId: 's-reuse', purpose: 'login', returnTo: '/' })).id, a.id);
    assert.notEqual((await service.open({ sessionId: 's-other', purpose: 'login', returnTo: '/' })).id, a.id);
    assert.notEqual((await service.open({ sessionId: 's-reuse', purpose: 'register', returnTo: '/' })).id, a.id);
    t.clock.advance(4 * 60 * 1000 + 1000); // less than a minute left: a new one
    const b = await service.open({ sessionId: 's-reuse', purpose: 'login', returnTo: '/' });
    assert.notEqual(b.id, a.id);
    t.clock.advance(2 * 60 * 60 * 1000);
    await service.open({ sessionId: 's-reuse', purpose: 'login', returnTo: '/' });
    assert.equal(await count(`select count(*) as n from card_read_request where id in (?, ?)`, [a.id, b.id]), 0);
  });

  test('iat may be at most 60 s ahead and 5 min old; the challenge and req must be this request’s', async () => {
    const card = await insertTestCard(t.services);
    const nowS = Math.floor(t.clock.now().getTime() / 1000);
    const cases: Array<[object, string]> = [
      [{ iat: nowS + 61 }, 'expired'],
      [{ iat: nowS - 301 }, 'expired'],
      [{ challenge: 'x'.repeat(43) }, 'replayed'],
      [{ req: 'another-request-id-000000000000000' }, 'replayed'],
      [{ v: 2 }, 'malformed'],
    ];
    for (const [over, failure] of cases) {
      const r = await service.open({ sessionId: `s-iat-${failure}-${JSON.stringify(over)}`, purpose: 'login', returnTo: '/' });
      assert.deepEqual(await service.receive(r.id, { assertion: await sign(card, r, over) }, '127.0.0.1'), { kind: 'failed', id: r.id }, JSON.stringify(over));
      const [row] = await t.services.orm.em.fork().getConnection().execute(`select failure from card_read_request where id = ?`, [r.id]);
      assert.equal(row.failure, failure, JSON.stringify(over));
    }
    const ok = await service.open({ sessionId: 's-iat-ok', purpose: 'login', returnTo: '/' });
    assert.equal((await service.receive(ok.id, { assertion: await sign(card, ok, { iat: nowS + 59 }) }, '127.0.0.1')).kind, 'verified');
  });

  test('two answers racing for one request: exactly one wins', async () => {
    const card = await insertTestCard(t.services);
    const r = await service.open({ sessionId: 's-race', purpose: 'login', returnTo: '/' });
    const jws = await sign(card, r);
    const results = await Promise.all([1, 2, 3].map(() => service.receive(r.id, { assertion: jws }, '127.0.0.1')));
    assert.equal(results.filter((x) => x.kind === 'verified').length, 1);
    assert.equal(results.filter((x) => x.kind === 'refused').length, 2);
  });

  test('an unknown agent error code counts as an unreadable card', async () => {
    const r = await service.open({ sessionId: 's-err', purpose: 'login', returnTo: '/' });
    await service.receive(r.id, { error: '<script>' }, '127.0.0.1');
    assert.deepEqual(await service.claim(r.id, 's-err', '127.0.0.1'), { kind: 'failure', purpose: 'login', returnTo: '/', failure: 'card_unreadable' });
  });

  test('terminal enrolment checks its input and is audited', async () => {
    const { publicKey } = cardKeyPairFromSeed(generateSeed());
    const terminals = t.services.readerTerminals;
    await assert.rejects(terminals.enroll({ terminalId: 'T-XYZ', publicKey, label: 'a' }), TerminalEnrolmentError);
    await assert.rejects(terminals.enroll({ terminalId: 'T-0000abcd', publicKey: 'short', label: 'a' }), TerminalEnrolmentError);
    await assert.rejects(terminals.enroll({ terminalId: 'T-0000abcd', publicKey, label: '  ' }), TerminalEnrolmentError);
    await terminals.enroll({ terminalId: 'T-0000abcd', publicKey, label: '臨櫃 2 號', by: 'admin1' });
    assert.equal(await terminals.activeKey('T-0000abcd'), publicKey);
    assert.equal(await terminals.revoke('T-0000abcd', 'admin1'), true);
    assert.equal(await terminals.revoke('T-0000abcd', 'admin1'), false, 'already revoked');
    assert.equal(await terminals.activeKey('T-0000abcd'), null);
    assert.equal(await count(`select count(*) as n from audit_event where subject = 'T-0000abcd' and actor_id = 'admin1'`), 2);
  });
});
