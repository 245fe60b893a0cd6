import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cardKeyPairFromSeed, generateSeed, signCardAssertion } from '../../src/agent/index.js';
import { CardReadService, TerminalEnrolmentError } from '../../src/modules/card-reads/index.js';
import { CardRegistry } from '../../src/modules/cards/index.js';
import { ReadChallenges } from '../../src/modules/card-reads/challenge.js';
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
      challenges: new ReadChallenges(t.services.config.sessionSecret),
      purposes: new Set(['login', 'confirm', 'counter']),
      staffPurposes: new Set(),
      acceptsTerminalRead: () => false,
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
  const cardData = (card: TestCard) => ({
    number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn,
  });
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await t.services.orm.em.fork().getConnection().execute(sql, params))[0].n);

  test('a flow bound to a person refuses another person’s card at the claim', async () => {
    const expected = await insertTestCard(t.services);
    const other = await insertTestCard(t.services);
    const r = await service.open({ binding: 's-bound', purpose: 'confirm', returnTo: '/confirm', expectedIdNumber: expected.sim.idNumber });
    assert.deepEqual(await service.receive(r.id, { assertion: await sign(other, r) }, '127.0.0.1'), { kind: 'verified', id: r.id, purpose: 'confirm' });
    assert.deepEqual(await service.claim(r.id, 's-bound', '127.0.0.1'), { kind: 'failure', purpose: 'confirm', returnTo: '/confirm', failure: 'other_person' });

    const mine = await service.open({ binding: 's-bound', purpose: 'confirm', returnTo: '/confirm', expectedIdNumber: expected.sim.idNumber });
    assert.notEqual(mine.id, r.id);
    await service.receive(mine.id, { assertion: await sign(expected, mine) }, '127.0.0.1');
    const claimed = await service.claim(mine.id, 's-bound', '127.0.0.1');
    assert.equal(claimed.kind, 'card');
    assert.equal(claimed.kind === 'card' && claimed.card.idNumber, expected.sim.idNumber);
  });

  test('a read for a purpose no module declared cannot be opened', () => {
    assert.throws(() => service.open({ binding: 'b-undeclared', purpose: 'register', returnTo: '/' }), /not declared/);
  });

  test('opening a read request writes nothing; the answer writes its one row', async () => {
    const card = await insertTestCard(t.services);
    const before = await count(`select count(*) as n from card_read_request`);
    const r = service.open({ binding: 'b-open', purpose: 'login', returnTo: '/' });
    assert.equal(await count(`select count(*) as n from card_read_request`), before);
    assert.equal((await service.receive(r.id, { assertion: await sign(card, r) }, '127.0.0.1')).kind, 'verified');
    assert.equal(await count(`select count(*) as n from card_read_request`), before + 1);
  });

  test('a request past its 5 minutes is refused as expired, and rows long expired are deleted', async () => {
    const card = await insertTestCard(t.services);
    const old = service.open({ binding: 'b-old', purpose: 'login', returnTo: '/' });
    await service.receive(old.id, { assertion: await sign(card, old) }, '127.0.0.1');
    const late = service.open({ binding: 'b-late', purpose: 'login', returnTo: '/' });
    t.clock.advance(5 * 60 * 1000 + 1);
    assert.deepEqual(await service.receive(late.id, { assertion: await sign(card, late) }, '127.0.0.1'), { kind: 'refused', refusal: 'expired', returnTo: '/' });
    t.clock.advance(2 * 60 * 60 * 1000);
    const fresh = service.open({ binding: 'b-fresh', purpose: 'login', returnTo: '/' });
    await service.receive(fresh.id, { assertion: await sign(card, fresh) }, '127.0.0.1');
    assert.equal(await count(`select count(*) as n from card_read_request where id = ?`, [old.id]), 0);
  });

  test('a read another browser tried to claim is void for the browser that asked', async () => {
    const card = await insertTestCard(t.services);
    const r = service.open({ binding: 'b-rightful', purpose: 'login', returnTo: '/' });
    await service.receive(r.id, { assertion: await sign(card, r) }, '127.0.0.1');
    assert.deepEqual(await service.claim(r.id, 'b-thief', '127.0.0.1'), { kind: 'refused', refusal: 'other_session', returnTo: undefined });
    assert.deepEqual(await service.claim(r.id, 'b-rightful', '127.0.0.1'), { kind: 'failure', purpose: 'login', returnTo: '/', failure: 'claimed_elsewhere' });
  });

  test('a read signed by an enrolled terminal key is refused for login, like an unknown key', async () => {
    const card = await insertTestCard(t.services);
    const seed = generateSeed();
    await t.services.readerTerminals.enroll({ terminalId: 'T-0000beef', publicKey: cardKeyPairFromSeed(seed).publicKey, label: '臨櫃 1 號' });
    for (const purpose of ['login', 'counter'] as const) {
      const r = service.open({ binding: `b-terminal-${purpose}`, purpose, returnTo: '/' });
      const jws = await signCardAssertion({
        privateKeySeed: seed,
        kid: 'terminal:T-0000beef',
        payload: { v: 1, req: r.id, challenge: r.challenge, aud: SERVER_ORIGIN, iat: Math.floor(t.clock.now().getTime() / 1000), card: cardData(card) },
      });
      assert.deepEqual(await service.receive(r.id, { assertion: jws }, '127.0.0.1'), { kind: 'failed', id: r.id, purpose });
      assert.deepEqual(await service.claim(r.id, `b-terminal-${purpose}`, '127.0.0.1'), { kind: 'failure', purpose, returnTo: '/', failure: 'invalid_signature' });
    }
  });

  test('an unknown card and a bad signature get the same answer; the audit row keeps which', async () => {
    const card = await insertTestCard(t.services);
    const stranger = await insertTestCard(t.services, { inRegistry: false });
    const outcomes = [];
    for (const [name, signer, kid] of [['bad signature', stranger, card], ['unknown card', stranger, stranger]] as const) {
      const r = service.open({ binding: `b-${name}`, purpose: 'login', returnTo: '/' });
      const jws = await signCardAssertion({
        privateKeySeed: signer.seed,
        kid: `card:${kid.sim.cardNumber}`,
        payload: { v: 1, req: r.id, challenge: r.challenge, aud: SERVER_ORIGIN, iat: Math.floor(t.clock.now().getTime() / 1000), card: cardData(kid) },
      });
      await service.receive(r.id, { assertion: jws }, '127.0.0.1');
      outcomes.push(await service.claim(r.id, `b-${name}`, '127.0.0.1'));
    }
    assert.deepEqual(outcomes[0], { kind: 'failure', purpose: 'login', returnTo: '/', failure: 'invalid_signature' });
    assert.deepEqual(outcomes[1], outcomes[0]);
    const reasons = await t.services.orm.em.fork().getConnection().execute(
      `select detail->>'signer' as signer from audit_event where action = 'card_read.verify' and detail->>'card' = ? order by occurred_at`, [`0000****${stranger.sim.cardNumber.slice(8)}`],
    );
    assert.deepEqual(reasons.map((row) => row.signer), ['unknown_card']);
  });

  test('iat may be at most 60 s ahead and 5 min old; the challenge and req must be this request’s', async () => {
    const card = await insertTestCard(t.services);
    const nowS = Math.floor(t.clock.now().getTime() / 1000);
    const cases: Array<[object, string]> = [
      [{ iat: nowS + 61 }, 'expired'],
      [{ iat: nowS - 301 }, 'expired'],
      [{ req: 'another-request-id-000000000000000' }, 'replayed'],
      [{ v: 2 }, 'malformed'],
    ];
    for (const [over, failure] of cases) {
      const r = await service.open({ binding: `s-iat-${failure}-${JSON.stringify(over)}`, purpose: 'login', returnTo: '/' });
      assert.deepEqual(await service.receive(r.id, { assertion: await sign(card, r, over) }, '127.0.0.1'), { kind: 'failed', id: r.id, purpose: 'login' }, JSON.stringify(over));
      const [row] = await t.services.orm.em.fork().getConnection().execute(`select failure from card_read_request where id = ?`, [r.id]);
      assert.equal(row.failure, failure, JSON.stringify(over));
    }
    const forged = service.open({ binding: 's-iat-forged', purpose: 'login', returnTo: '/' });
    assert.deepEqual(
      await service.receive(forged.id, { assertion: await sign(card, forged, { challenge: 'x'.repeat(43) }) }, '127.0.0.1'),
      { kind: 'refused', refusal: 'unknown_request', returnTo: undefined },
      'a challenge this server did not seal',
    );
    const ok = await service.open({ binding: 's-iat-ok', purpose: 'login', returnTo: '/' });
    assert.equal((await service.receive(ok.id, { assertion: await sign(card, ok, { iat: nowS + 59 }) }, '127.0.0.1')).kind, 'verified');
  });

  test('two answers racing for one request: exactly one wins', async () => {
    const card = await insertTestCard(t.services);
    const r = await service.open({ binding: 's-race', purpose: 'login', returnTo: '/' });
    const jws = await sign(card, r);
    const results = await Promise.all([1, 2, 3].map(() => service.receive(r.id, { assertion: jws }, '127.0.0.1')));
    assert.equal(results.filter((x) => x.kind === 'verified').length, 1);
    assert.equal(results.filter((x) => x.kind === 'refused').length, 2);
  });

  test('an unknown agent error code counts as an unreadable card', async () => {
    const r = await service.open({ binding: 's-err', purpose: 'login', returnTo: '/' });
    await service.receive(r.id, { error: '<script>', challenge: r.challenge }, '127.0.0.1');
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
