import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedTelecom, type TelecomAnswer, type TelecomOperator } from '../../src/modules/devices/index.js';
import { RegistryUnavailableError } from '../../src/modules/household/index.js';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard, SERVER_ORIGIN, type TestCard } from '../helpers/card-reads.js';
import request from 'supertest';
import { appClient as bindClient, freshAddress, newDevice } from '../helpers/devices.js';
import { auditRows, logIn, PASSWORD, readCardHere, registerActive, setRegistrationState, type LoginSite } from '../helpers/logins.js';
import { startAppWithAgent } from '../helpers/site.js';
import { TestSmtpServer } from '../helpers/smtp.js';

const NEW_PASSWORD = 'Hualien#2030';

/** The app's calls, with 行動電話認證's own. */
function appClient(app: Parameters<typeof bindClient>[0], options: { address?: string; language?: string } = {}) {
  const headers = { 'X-Forwarded-For': options.address ?? '198.51.100.1', 'Accept-Language': options.language ?? 'zh-TW' };
  return { ...bindClient(app, options), phoneVerify: (body: object) => request(app).post('/api/app/v1/phone-verifications').set(headers).send(body) };
}

// 行動電話認證 (INTERFACES.md "Mobile app API", seed 004 Q1, Q2, Q6, Q7, Q9; registration rule 4(2)).
describe('phone verification (行動電話認證)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nhi-telecom-'));
  let site: LoginSite;
  // The simulated operator of a TELECOM_SIM_FILE each test writes: the people are made after the start.
  let operator: TelecomOperator = new SimulatedTelecom();
  let files = 0;
  const listNumbers = (entries: { mobile: string; idNumber: string; kind: string }[]) => {
    const file = join(dir, `sim-${++files}.json`);
    writeFileSync(file, JSON.stringify(entries));
    operator = SimulatedTelecom.fromFile(file);
  };

  before(async () => {
    const smtp = new TestSmtpServer();
    await smtp.start(0);
    const started = await startAppWithAgent(SERVER_ORIGIN, {
      env: { SMTP_URL: smtp.url },
      rateLimits: { login: { points: 1000, durationSeconds: 60 }, accountSteps: { points: 1000, durationSeconds: 60 } },
      modules: { devices: { check: (mobile: string, idNumber: string) => operator.check(mobile, idNumber) } },
    });
    site = { ...started, smtp, close: async () => { await started.close(); await smtp.stop(); } };
  });
  after(async () => {
    await site?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => site.t.clock.set(new Date()));

  let nextMobile = 0;
  const mobile = () => `0987${String(++nextMobile).padStart(6, '0')}`;
  /** A person with a valid card whose number the operator lists as theirs, of `kind`. */
  const eligible = async (kind = 'postpaid', card?: TestCard) => {
    const c = card ?? (await insertTestCard(site.t.services));
    const number = mobile();
    listNumbers([{ mobile: number, idNumber: c.sim.idNumber, kind }]);
    return { card: c, mobile: number, idNumber: c.sim.idNumber };
  };
  const verify = (p: { card: TestCard; mobile: string; idNumber: string }, changes: Record<string, unknown> = {}, device = newDevice('Pixel 9'), app = appClient(site.t.app, { address: freshAddress() })) =>
    app.phoneVerify({ mobile: p.mobile, idNumber: p.idNumber, cardLast4: p.card.sim.cardNumber.slice(-4), password: NEW_PASSWORD, ...device, ...changes });
  const registration = async (idNumber: string) =>
    (await site.t.services.orm.em.fork().getConnection().execute<{ state: string; email: string | null; mobile: string }[]>('select state, email, mobile from registration where id_number = ?', [idNumber]))[0];

  test('an eligible number registers the person in one call: active, no e-mail, the device bound; the app and the web log in', async () => {
    const p = await eligible();
    const app = appClient(site.t.app, { address: freshAddress() });
    const device = newDevice('Pixel 9');
    const done = await verify(p, {}, device, app);
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.deepEqual(Object.keys(done.body).sort(), ['account', 'deviceToken', 'registered']);
    assert.equal(done.body.registered, true);
    assert.equal(done.body.account, `${p.idNumber.slice(0, 6)}****`);
    assert.deepEqual(await registration(p.idNumber), { state: 'active', email: null, mobile: p.mobile }, 'no e-mail confirmation through the app');

    const session = await app.login({ idNumber: p.idNumber, password: NEW_PASSWORD, deviceId: device.deviceId, deviceToken: done.body.deviceToken });
    assert.equal(session.status, 200, JSON.stringify(session.body));
    const list = await app.devices(session.body.accessToken);
    assert.deepEqual(list.body.devices.map((d: { model: string; status: string }) => [d.model, d.status]), [['Pixel 9', 'active']]);
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), p.card, NEW_PASSWORD)).url, '/account', 'the card and the new password log in on the web');
  });

  test('each ineligible kind is refused with its reason; an unlisted number is not_owner, and so is a listed one of another person', async () => {
    for (const kind of ['prepaid', 'corporate', 'family_plan', 'mvno', 'suspended']) {
      const p = await eligible(kind);
      const refused = await verify(p);
      assert.equal(refused.status, 422, kind);
      assert.equal(refused.body.error, 'number_ineligible');
      assert.equal(refused.body.reason, kind);
      assert.equal(typeof refused.body.message, 'string');
      assert.equal(await registration(p.idNumber), undefined, `${kind}: nothing registered`);
    }
    const p = await eligible();
    const unlisted = await verify({ ...p, mobile: '0900000001' });
    assert.deepEqual([unlisted.status, unlisted.body.reason], [422, 'not_owner']);
    const other = await insertTestCard(site.t.services);
    const someoneElses = await verify({ card: other, idNumber: other.sim.idNumber, mobile: p.mobile });
    assert.deepEqual([someoneElses.status, someoneElses.body.reason], [422, 'not_owner']);
    const en = await appClient(site.t.app, { address: freshAddress(), language: 'en' }).phoneVerify({ mobile: '0900000001', idNumber: p.idNumber, cardLast4: p.card.sim.cardNumber.slice(-4), password: NEW_PASSWORD, ...newDevice() });
    assert.match(en.body.message, /not in your name/);
  });

  test('a number of an operator outside the five is unknown_operator (an operator adapter may say so)', async () => {
    const p = await eligible();
    const sim = operator;
    operator = { check: async (): Promise<TelecomAnswer> => 'unknown_operator' };
    try {
      const refused = await verify(p);
      assert.deepEqual([refused.status, refused.body.error, refused.body.reason], [422, 'number_ineligible', 'unknown_operator']);
    } finally {
      operator = sim;
    }
  });

  test('a wrong cardLast4, a void card and an ID number not in the registry get one answer that names neither', async () => {
    const p = await eligible();
    const voidCard = `0000${String(Date.now()).slice(-8)}`;
    await site.t.services.orm.em.fork().getConnection().execute(`insert into card (card_number, id_number, issued_on, status, public_key) values (?, ?, '2010-01-01', 'void', null)`, [voidCard, p.idNumber]);
    const wrongDigits = String((Number(p.card.sim.cardNumber.slice(-4)) + 1) % 10000).padStart(4, '0');
    const stranger = await insertTestCard(site.t.services, { inRegistry: false });
    const answers = [
      await verify(p, { cardLast4: wrongDigits === voidCard.slice(-4) ? '0000' : wrongDigits }),
      await verify(p, { cardLast4: voidCard.slice(-4) }),
      await verify({ ...p, idNumber: stranger.sim.idNumber }),
    ];
    for (const a of answers) {
      assert.equal(a.status, 401);
      assert.equal(a.body.error, 'invalid_credentials');
      assert.equal(a.body.message, answers[0]!.body.message, 'the same words');
      assert.equal(a.body.field, undefined);
    }
    assert.equal(await registration(p.idNumber), undefined);
  });

  test('failed tries count per device like wrong device codes: the 6th is refused even when right', async () => {
    const p = await eligible();
    const device = newDevice();
    for (let i = 0; i < 5; i++) {
      const a = await verify(p, { cardLast4: '0000' === p.card.sim.cardNumber.slice(-4) ? '1111' : '0000' }, device, appClient(site.t.app, { address: freshAddress() }));
      assert.equal(a.status, 401);
    }
    const right = await verify(p, {}, device, appClient(site.t.app, { address: freshAddress() }));
    assert.equal(right.status, 429);
    assert.ok(Number(right.headers['retry-after']) > 0);
  });

  test('an already active registration gets the device and the new password: the old one stops working, the web session ends, the lockout lifts', async () => {
    const { card } = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    assert.equal((await logIn(site, browser, card, PASSWORD)).url, '/account');
    // Locked out by wrong passwords on the web (LOGIN_LOCKOUT_ATTEMPTS = 5).
    for (let i = 0; i < 5; i++) await logIn(site, new BrowserAgent(site.t.app), card, `Wrong#${i}abc`);
    assert.equal((await site.t.services.api.credentials.lockState(card.sim.idNumber)).locked, true);

    const p = await eligible('postpaid', card);
    const done = await verify(p);
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.equal((await registration(p.idNumber))!.state, 'active');
    assert.ok((await registration(p.idNumber))!.email, 'the registration keeps its address');
    assert.equal((await site.t.services.api.credentials.lockState(card.sim.idNumber)).locked, false, 'Q7: a new password, the lockout lifted');
    assert.notEqual((await browser.get('/account')).url, '/account', 'the earlier web session has ended');
    assert.notEqual((await logIn(site, new BrowserAgent(site.t.app), card, PASSWORD)).url, '/account', 'the old password no longer works');
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), card, NEW_PASSWORD)).url, '/account');
  });

  test('a pending registration becomes active with the new password; a suspended one is refused as device_disabled', async () => {
    const pending = await registerActive(site, { state: 'pending' });
    const p = await eligible('postpaid', pending.card);
    assert.equal((await verify(p)).status, 201);
    assert.equal((await registration(p.idNumber))!.state, 'active');
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), pending.card, NEW_PASSWORD)).url, '/account');

    const suspended = await registerActive(site, { state: 'suspended' });
    const s = await eligible('postpaid', suspended.card);
    const refused = await verify(s);
    assert.deepEqual([refused.status, refused.body.error], [403, 'device_disabled']);
    assert.equal((await registration(s.idNumber))!.state, 'suspended');
  });

  test('a deleted registration is made anew, active', async () => {
    const { card } = await registerActive(site);
    await setRegistrationState(site, card.sim.idNumber, 'deleted');
    const p = await eligible('postpaid', card);
    assert.equal((await verify(p)).status, 201);
    assert.deepEqual(await registration(p.idNumber), { state: 'active', email: null, mobile: p.mobile });
  });

  test('invalid input names the field', async () => {
    const p = await eligible();
    const cases: [Record<string, unknown>, string][] = [
      [{ mobile: '0212345678' }, 'mobile'],
      [{ mobile: '091234567' }, 'mobile'],
      [{ idNumber: `${p.idNumber.slice(0, 9)}${(Number(p.idNumber[9]) + 1) % 10}` }, 'idNumber'],
      [{ cardLast4: '12a4' }, 'cardLast4'],
      [{ cardLast4: 1234 }, 'cardLast4'],
      [{ password: '12345' }, 'password'],
      [{ password: 'with space1' }, 'password'],
      [{ password: p.idNumber }, 'password'],
      [{ password: '19800131' }, 'password'],
      [{ password: p.card.sim.cardNumber.slice(-12) }, 'password'],
      [{ platform: '' }, 'platform'],
      [{ deviceId: 'no spaces allowed' }, 'deviceId'],
    ];
    for (const [change, field] of cases) {
      const a = await verify(p, change);
      assert.equal(a.status, 400, JSON.stringify(change));
      assert.deepEqual([a.body.error, a.body.field], ['invalid_input', field], JSON.stringify(change));
    }
    assert.equal(await registration(p.idNumber), undefined);
  });

  test('no password in the audit table; the rows name the person masked', async () => {
    const p = await eligible();
    await verify(p, { cardLast4: p.card.sim.cardNumber.slice(-4) === '9999' ? '9998' : '9999' });
    assert.equal((await verify(p)).status, 201);
    const rows = JSON.stringify(await auditRows(site));
    assert.ok(!rows.includes(NEW_PASSWORD), 'no password');
    assert.ok(!rows.includes(p.idNumber), 'no full ID number');
    assert.match(rows, /device\.phone_verify/);
    assert.match(rows, /registration\.app_register/);
  });

  test('registered through the app, without an address: 忘記註冊密碼 and 重寄認證信 answer as ever and mail nothing', async () => {
    const p = await eligible();
    assert.equal((await verify(p)).status, 201);
    await site.t.services.mailWorker.runOnce();
    const before = site.smtp.messages.length;
    const forgot = new BrowserAgent(site.t.app);
    await forgot.get('/forgot-password');
    await readCardHere(site, forgot, p.card, 'forgot');
    const forgotPage = await forgot.submit({}, 'form[action="/forgot-password"]');
    assert.match(forgotPage.$('main').text(), /您已申請成功，請至電子郵件信箱收取確認信/, 'the same answer as with an address');
    await site.t.services.mailWorker.runOnce();
    assert.equal(site.smtp.messages.length, before, 'no mail for forgot');

    // A pending registration that lost its address (none is made through the app, but the resend must not mail nothing-at-all).
    const pending = await registerActive(site, { state: 'pending' });
    await site.t.services.orm.em.fork().getConnection().execute('update registration set email = null where id_number = ?', [pending.card.sim.idNumber]);
    await site.t.services.mailWorker.runOnce();
    const beforeResend = site.smtp.messages.length;
    const resend = new BrowserAgent(site.t.app);
    await resend.get('/resend-confirmation');
    await readCardHere(site, resend, pending.card, 'resend');
    const resendPage = await resend.submit({ method: 'stored' }, 'form[action="/resend-confirmation"]');
    assert.equal(resendPage.status, 200);
    assert.equal(resendPage.$('main').text().includes(site.t.services.i18n.translator('zh-TW')('registration.resent.message')), true, 'the usual answer');
    await site.t.services.mailWorker.runOnce();
    assert.equal(site.smtp.messages.length, beforeResend, 'no mail for resend');
    const rows = JSON.stringify(await auditRows(site));
    assert.match(rows, /"reason":"no_email"/);
  });

  test('TELECOM_SIM_FILE: a malformed file is refused naming the file and the entry', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ mobile: '0912345678', idNumber: 'A123456789', kind: 'postpaid' }, { mobile: '0912345678', idNumber: 'A123456789', kind: 'gold' }]));
    assert.throws(() => SimulatedTelecom.fromFile(bad), /TELECOM_SIM_FILE .*bad\.json: entry 2: kind/);
    writeFileSync(bad, '{"mobile":');
    assert.throws(() => SimulatedTelecom.fromFile(bad), /TELECOM_SIM_FILE .*bad\.json: not JSON/);
    writeFileSync(bad, JSON.stringify({ mobile: '0912345678' }));
    assert.throws(() => SimulatedTelecom.fromFile(bad), /must be a JSON array/);
    assert.throws(() => SimulatedTelecom.fromFile(join(dir, 'missing.json')), /cannot be read/);
  });
});

describe('phone verification while the household registry cannot answer', () => {
  const t = useTestApp({
    modules: {
      household: {
        check: async () => 'unavailable',
        findPerson: async () => {
          throw new RegistryUnavailableError(new Error('connection refused'));
        },
        findPersons: async () => {
          throw new RegistryUnavailableError(new Error('connection refused'));
        },
      },
    },
  });

  test('the app hears "try later" (503 with Retry-After), not a server error, and no failed try is counted', async () => {
    const card = await insertTestCard(t.services);
    const app = appClient(t.app, { address: freshAddress() });
    const device = newDevice();
    const body = { mobile: '0987000999', idNumber: card.sim.idNumber, cardLast4: card.sim.cardNumber.slice(-4), password: NEW_PASSWORD, ...device };
    for (let i = 0; i < 6; i++) {
      const res = await app.phoneVerify(body);
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.error, 'service_unavailable');
      assert.match(res.body.message, /戶籍資料暫時無法查詢/);
      assert.equal(res.headers['retry-after'], '60');
    }
  });
});
