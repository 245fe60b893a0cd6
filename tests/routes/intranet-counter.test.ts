import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { useTestApp, type TestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard } from '../helpers/card-reads.js';
import { enrolTerminal, readInto, registerAtCounter, signedReadAnswer } from '../helpers/counter.js';
import { appClient, freshAddress, newDevice } from '../helpers/devices.js';
import { citizenLogIn } from '../helpers/logins.js';
import { staffBrowser } from '../helpers/staff.js';

const PASSWORD = 'Taipei#2026';

async function outboxTo(t: TestApp, to: string): Promise<{ template: string }[]> {
  return t.services.orm.em.fork().getConnection().execute(`select template from outbox_message where recipient = ? order by created_at`, [to]);
}

async function auditOf(t: TestApp, action: string, idNumber: string): Promise<{ actor_type: string; actor_id: string; outcome: string; detail: Record<string, unknown> }[]> {
  return t.services.orm.em.fork().getConnection().execute(`select * from audit_event where action = ? and subject_key = ? order by id`, [action, t.services.audit.personKey(idNumber)]);
}

describe('counter intranet: registration at the counter', () => {
  const t = useTestApp({ rateLimits: { login: { points: 1000, durationSeconds: 60 }, accountSteps: { points: 1000, durationSeconds: 60 } } });

  test('a terminal-signed read registers a person who then logs in at once, with no mail to confirm; the audit names staff, terminal and documents', async () => {
    const terminal = await enrolTerminal(t);
    const card = await insertTestCard(t.services, { name: '林志明' });
    const { browser: clerk, username } = await staffBrowser(t, 'clerk');
    const done = await registerAtCounter(t, clerk, card, { terminal, documents: ['national_id', 'household_register'] });
    assert.equal(done.status, 200, done.$('.error-summary').text());
    assert.match(done.$('main').text(), /林志明 的健保卡網路服務註冊已完成並啟用/);

    const account = (await t.services.api.registration.service.account(card.sim.idNumber))!;
    assert.equal(account.state, 'active');
    await citizenLogIn(t, card);
    const email = `c${card.sim.idNumber.toLowerCase()}@example.com.tw`;
    assert.deepEqual((await outboxTo(t, email)).map((m) => m.template), ['registration-complete'], 'the completion notice, and no confirmation link');

    const [row] = await auditOf(t, 'registration.counter_register', card.sim.idNumber);
    assert.equal(row!.actor_type, 'staff');
    assert.equal(row!.actor_id, username);
    assert.equal(row!.outcome, 'success');
    assert.equal(row!.detail.terminal, terminal.terminalId);
    assert.equal(row!.detail.documents, 'national_id,household_register');
  });

  test('a device code made on the spot binds the phone, which then logs in', async () => {
    const card = await insertTestCard(t.services);
    const { browser: clerk } = await staffBrowser(t, 'supervisor');
    const done = await registerAtCounter(t, clerk, card, { deviceCode: true });
    const code = done.$('.device-code strong').text().trim();
    assert.match(code, /\S{6,}/);
    assert.equal(done.$('.device-code-qr svg').length, 1);
    const app = appClient(t.app, { address: freshAddress() });
    const device = newDevice();
    const bound = await app.bind({ code, ...device });
    assert.equal(bound.status, 201, bound.text);
    const login = await app.login({ idNumber: card.sim.idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken: bound.body.deviceToken });
    assert.equal(login.status, 200, login.text);
  });

  test('wrong input: no documents, passwords that differ, a bad e-mail; messages beside fields and in the summary, nothing saved', async () => {
    const card = await insertTestCard(t.services);
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    await clerk.get('/intranet/register');
    const noCard = await clerk.submit({ documents: 'national_id', password: PASSWORD, passwordConfirm: PASSWORD, mobile: '0912345678', email: 'a@example.com.tw' }, 'form.counter-register-form');
    assert.equal(noCard.status, 400);
    assert.match(noCard.$('.error-summary').text(), /請先讀取民眾的健保卡/);
    await readInto(t, clerk, card, 'counter');
    const bad = await clerk.submit({ password: PASSWORD, passwordConfirm: 'Other#2026', mobile: '0912345678', email: 'not-an-address' }, 'form.counter-register-form');
    assert.equal(bad.status, 400);
    assert.match(bad.$('#documents-error').text(), /請勾選已查驗的身分證明文件/);
    assert.match(bad.$('#passwordConfirm-error').text(), /兩次輸入的註冊密碼不一致/);
    assert.match(bad.$('#email-error').text(), /E-Mail 格式不正確/);
    assert.equal(bad.$('.error-summary li').length, 3);
    assert.equal(bad.$('#email').val(), 'not-an-address', 'what was typed is kept');
    assert.equal(bad.$('#mobile').val(), '0912345678');
    assert.equal(bad.$('#password').attr('value'), undefined, 'never the password');
    assert.equal(bad.$('#card-panel-counter .card-holder-name').text(), card.sim.name, 'the card stays read');
    assert.equal(await t.services.api.registration.service.account(card.sim.idNumber), null, 'nothing saved');
  });

  test('the same person twice: the second is refused and says the person is registered', async () => {
    const card = await insertTestCard(t.services);
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    assert.equal((await registerAtCounter(t, clerk, card)).status, 200);
    await clerk.get('/intranet/register');
    const again = await readInto(t, clerk, card, 'counter');
    assert.match(again.$('main').text(), /此民眾已完成註冊/);
    const refused = await clerk.submit({ documents: 'passport', password: 'Other#2027', passwordConfirm: 'Other#2027', mobile: '0912345678', email: 'x@example.com.tw' }, 'form.counter-register-form');
    assert.equal(refused.status, 409);
    assert.match(refused.$('.error-summary').text(), /此民眾已有註冊資料/);
    await citizenLogIn(t, card, PASSWORD);
  });

  test('a pending online application becomes active at the counter with the password typed there', async () => {
    const card = await insertTestCard(t.services);
    await t.services.api.registration.service.apply({
      identity: { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate },
      password: 'Online#2026', contacts: { email: 'online@example.com.tw', mobile: '0912345678' }, locale: 'zh-TW', clientAddress: '127.0.0.1',
    });
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const done = await registerAtCounter(t, clerk, card, { password: 'Counter#2026', email: 'counter@example.com.tw' });
    assert.match(done.$('main').text(), /原線上申請之註冊已啟用/);
    await citizenLogIn(t, card, 'Counter#2026');
  });

  test('in English', async () => {
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const page = await clerk.get('/intranet/register?lang=en');
    assert.match(page.$('h1').text(), /Register at the counter/);
    assert.match(page.$('form.counter-register-form legend').first().text(), /Identity documents checked/);
  });
});

describe('counter intranet: terminal-signed reads', () => {
  const t = useTestApp();

  test('a terminal-signed read is refused for every citizen purpose and accepted for the counter', async () => {
    const terminal = await enrolTerminal(t);
    const card = await insertTestCard(t.services);
    const service = t.services.api.cardReads.service;
    const { signCardAssertion } = await import('../../src/agent/index.js');
    const outcome = async (purpose: string, address = '127.0.0.1') => {
      const binding = 'a'.repeat(43);
      const { id, challenge } = service.open({ binding, purpose, returnTo: '/' });
      const assertion = await signCardAssertion({
        privateKeySeed: terminal.seed,
        kid: `terminal:${terminal.terminalId}`,
        payload: {
          v: 1, req: id, challenge, aud: t.services.config.publicOrigin, iat: Math.floor(t.clock.now().getTime() / 1000),
          card: { number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn },
        },
      });
      const received = await service.receive(id, { assertion }, address);
      const [row] = await t.services.orm.em.fork().getConnection().execute('select state, failure from card_read_request where id = ?', [id]);
      return { kind: received.kind, failure: row?.failure ?? null };
    };
    const citizen = [...service.citizenPurposes];
    assert.ok(citizen.length >= 7 && citizen.includes('login') && citizen.includes('register') && !citizen.includes('counter'));
    for (const purpose of citizen) assert.deepEqual(await outcome(purpose), { kind: 'failed', failure: 'invalid_signature' }, purpose);
    assert.deepEqual(await outcome('counter'), { kind: 'verified', failure: null });
    assert.deepEqual(await outcome('counter', '203.0.113.9'), { kind: 'failed', failure: 'invalid_signature' }, 'not from outside INTRANET_ALLOW');
  });

  test('a counter read is claimed only in a staff session: the citizen claim route refuses it', async () => {
    const card = await insertTestCard(t.services);
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const page = await clerk.get('/intranet/register');
    const back = await signedReadAnswer(t, page, card, 'counter');
    assert.equal(back.headers.location, `/intranet/card-reads/${page.$('#card-panel-counter input[name="req"]').val()}/claim`);
    const citizenClaim = await clerk.agent.get(back.headers.location!.replace('/intranet', ''));
    assert.equal(citizenClaim.status, 400);
    // A claim without a staff login goes to the staff login page, not to the card.
    const anonymous = await request(t.app).get(back.headers.location!);
    assert.equal(anonymous.headers.location, '/intranet/login?login=required');
    const claimed = await clerk.get(back.headers.location!);
    assert.equal(claimed.$('#card-panel-counter .card-holder-name').text(), card.sim.name);
    // 清除 in the staff session empties the counter's panel.
    const cleared = await clerk.submit({}, '#card-panel-counter form.card-clear-form');
    assert.equal(cleared.url, '/intranet/register');
    assert.equal(cleared.$('#card-panel-counter form.card-read-form').length, 1);
  });
});

describe('counter intranet: outside the citizen service hours', () => {
  // Noon in Taipei is outside 06:00-07:00: citizen pages are closed, the counter is not.
  const t = useTestApp({ env: { SERVICE_HOURS: '06:00-07:00' } });

  test('the counter still reads cards and registers', async () => {
    assert.match((await new BrowserAgent(t.app).get('/register')).$('main').text(), /06:00-07:00/, 'citizen pages show the hours');
    const card = await insertTestCard(t.services);
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const done = await registerAtCounter(t, clerk, card);
    assert.equal(done.status, 200, done.$('.error-summary').text());
    assert.equal((await t.services.api.registration.service.account(card.sim.idNumber))!.state, 'active');
  });
});
