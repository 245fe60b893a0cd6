import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { appClient, freshAddress, generateDeviceCode, newDevice } from '../helpers/devices.js';
import { logIn, PASSWORD, registerActive, setRegistrationState, startLoginSite, type LoginSite } from '../helpers/logins.js';

const SECRET = 'a-session-secret-shared-by-both-processes-0123456789';

// The NHI app's JSON API (INTERFACES.md "Mobile app API"): bind with a device code, log in, list devices.
describe('mobile app API', () => {
  let site: LoginSite;
  before(async () => {
    site = await startLoginSite({ SESSION_SECRET: SECRET });
  });
  after(async () => site?.close());
  beforeEach(() => site.t.clock.set(new Date()));

  const person = async () => {
    const registered = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    assert.equal((await logIn(site, browser, registered.card, PASSWORD)).url, '/account');
    return { ...registered, browser, idNumber: registered.card.sim.idNumber };
  };
  const boundDevice = async (p: Awaited<ReturnType<typeof person>>, app = appClient(site.t.app, { address: freshAddress() })) => {
    const device = newDevice();
    const { code } = await generateDeviceCode(p.browser);
    const bound = await app.bind({ code, ...device });
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    return { app, device, deviceToken: bound.body.deviceToken as string, login: { idNumber: p.idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken: bound.body.deviceToken as string } };
  };

  test('bind → 201 {deviceToken, account}; login → 200 {accessToken, expiresIn}; GET /devices lists them; no cookie, no session', async () => {
    const p = await person();
    const sessionsBefore = await site.t.services.sessionPool.query('select count(*)::int as n from session');
    const app = appClient(site.t.app, { address: freshAddress() });
    const device = newDevice();
    const { code } = await generateDeviceCode(p.browser);
    // Unknown fields are ignored; the code typed in lower case with a space still binds.
    const bound = await app.bind({ code: `${code.slice(0, 4).toLowerCase()} ${code.slice(4)}`, ...device, extra: 'ignored' });
    assert.equal(bound.status, 201);
    assert.match(bound.headers['content-type']!, /^application\/json/);
    assert.deepEqual(Object.keys(bound.body).sort(), ['account', 'deviceToken']);
    assert.equal(bound.body.account, `${p.idNumber.slice(0, 6)}****`);
    assert.match(bound.body.deviceToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(bound.headers['set-cookie'], undefined);

    const session = await app.login({ idNumber: p.idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken: bound.body.deviceToken });
    assert.equal(session.status, 200);
    assert.equal(session.body.expiresIn, 900);
    assert.equal(typeof session.body.accessToken, 'string');
    assert.equal(session.headers['set-cookie'], undefined);

    const list = await app.devices(session.body.accessToken);
    assert.equal(list.status, 200);
    assert.equal(list.headers['set-cookie'], undefined);
    assert.deepEqual(list.body.devices, [{ deviceId: device.deviceId, platform: 'Android', model: 'Sony Xperia', verifiedAt: site.t.clock.now().toISOString(), status: 'active' }]);
    const sessionsAfter = await site.t.services.sessionPool.query('select count(*)::int as n from session');
    assert.equal(sessionsAfter.rows[0].n, sessionsBefore.rows[0].n, 'the API made no session row');

    const [row] = await site.t.services.orm.em.fork().getConnection().execute<{ token_hash: string }[]>('select token_hash from device_binding where device_id = ?', [device.deviceId]);
    assert.notEqual(row!.token_hash, bound.body.deviceToken, 'the device token is stored hashed');
  });

  test('the access token lasts 15 minutes', async () => {
    const p = await person();
    const { app, login } = await boundDevice(p);
    const token = (await app.login(login)).body.accessToken;
    site.t.clock.advance(15 * 60 * 1000 - 1000);
    assert.equal((await app.devices(token)).status, 200);
    site.t.clock.advance(1000);
    const expired = await app.devices(token);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error, 'invalid_token');
    assert.match(expired.headers['www-authenticate']!, /Bearer error="invalid_token"/);
  });

  test('a code past its 10 minutes, used once already, or superseded by a newer one is refused', async () => {
    const p = await person();
    const app = appClient(site.t.app, { address: freshAddress() });
    const { code: late } = await generateDeviceCode(p.browser);
    site.t.clock.advance(10 * 60 * 1000 + 1000);
    const expired = await app.bind({ code: late, ...newDevice() });
    assert.equal(expired.status, 400);
    assert.equal(expired.body.error, 'invalid_code');
    assert.match(expired.body.message, /裝置認證碼錯誤或已失效/);

    const { code: inTime } = await generateDeviceCode(p.browser);
    site.t.clock.advance(10 * 60 * 1000 - 1000);
    assert.equal((await app.bind({ code: inTime, ...newDevice() })).status, 201, 'one second before the end it still binds');
    const used = await app.bind({ code: inTime, ...newDevice() });
    assert.equal(used.status, 400);
    assert.equal(used.body.error, 'invalid_code');

    const { code: first } = await generateDeviceCode(p.browser);
    const { code: second } = await generateDeviceCode(p.browser);
    assert.equal((await app.bind({ code: first, ...newDevice() })).body.error, 'invalid_code', 'a new code voids the previous one');
    assert.equal((await app.bind({ code: second, ...newDevice() })).status, 201);
  });

  test('the 6th wrong code within 10 minutes gets 429 with Retry-After, per device ID and per address, even with the right code', async () => {
    const p = await person();
    const device = newDevice();
    for (let i = 1; i <= 5; i++) {
      // Each guess from another address: the device ID's own count stops them.
      const wrong = await appClient(site.t.app, { address: freshAddress() }).bind({ code: 'ABCDEFGH', ...device });
      assert.equal(wrong.status, 400, `guess ${i}`);
      assert.equal(wrong.body.error, 'invalid_code');
    }
    const { code } = await generateDeviceCode(p.browser);
    const blocked = await appClient(site.t.app, { address: freshAddress() }).bind({ code, ...device });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error, 'too_many_attempts');
    assert.ok(Number(blocked.headers['retry-after']) > 500 && Number(blocked.headers['retry-after']) <= 600, blocked.headers['retry-after']);

    const address = freshAddress();
    const one = appClient(site.t.app, { address });
    for (let i = 1; i <= 5; i++) assert.equal((await one.bind({ code: 'ABCDEFGH', ...newDevice() })).status, 400, `guess ${i}`);
    assert.equal((await one.bind({ code, ...newDevice() })).status, 429, 'the same address with other device IDs');
    assert.equal((await appClient(site.t.app, { address: freshAddress() }).bind({ code, ...newDevice() })).status, 201, 'others are not stopped');
  });

  test('the count is shared by two app processes on one database', async () => {
    const second: TestApp = await buildTestApp({ env: { DATABASE_URL: site.t.databaseUrl, SESSION_SECRET: SECRET } });
    try {
      const device = newDevice();
      const address = freshAddress();
      for (let i = 1; i <= 5; i++) {
        const app = i % 2 ? site.t.app : second.app;
        assert.equal((await appClient(app, { address }).bind({ code: 'ABCDEFGH', ...device })).status, 400, `guess ${i}`);
      }
      assert.equal((await appClient(second.app, { address: freshAddress() }).bind({ code: 'ABCDEFGH', ...device })).status, 429);
      assert.equal((await appClient(site.t.app, { address: freshAddress() }).bind({ code: 'ABCDEFGH', ...device })).status, 429);
    } finally {
      await second.close();
    }
  });

  test('a password change (on the web) makes the access token fail; the new password logs in', async () => {
    const p = await person();
    const { app, login } = await boundDevice(p);
    const token = (await app.login(login)).body.accessToken;
    await p.browser.get('/account/password');
    assert.equal((await p.browser.submit({ password: 'Hsinchu#2028', passwordConfirm: 'Hsinchu#2028' }, 'form[action="/account/password"]')).url, '/account');
    const ended = await app.devices(token);
    assert.equal(ended.status, 401);
    assert.equal(ended.body.error, 'invalid_token');
    assert.equal((await app.login(login)).status, 401, 'the old password no longer works');
    assert.equal((await app.login({ ...login, password: 'Hsinchu#2028' })).status, 200);
  });

  test('wrong passwords through the app count into the web lockout; locked, the right password gets the same answer', async () => {
    const p = await person();
    const { app, login } = await boundDevice(p);
    for (let i = 1; i <= 5; i++) {
      const wrong = await app.login({ ...login, password: `Wrong#${i}pass` });
      assert.equal(wrong.status, 401, `try ${i}`);
      assert.equal(wrong.body.error, 'invalid_credentials');
    }
    const lock = await site.t.services.api.credentials.lockState(p.idNumber);
    assert.equal(lock.locked, true);
    const locked = await app.login(login);
    assert.equal(locked.status, 401);
    assert.equal(locked.body.error, 'invalid_credentials');
    const web = await logIn(site, new BrowserAgent(site.t.app), p.card, PASSWORD);
    assert.equal(web.status, 400, 'the web login is locked too');
  });

  test('a wrong device token is refused without trying the password (an ID number alone cannot lock anyone out)', async () => {
    const p = await person();
    const { app, login } = await boundDevice(p);
    for (let i = 1; i <= 6; i++) assert.equal((await app.login({ ...login, password: 'Wrong#pass1', deviceToken: 'x'.repeat(43) })).body.error, 'invalid_credentials');
    assert.equal((await site.t.services.api.credentials.lockState(p.idNumber)).consecutiveFailures, 0);
    assert.equal((await app.login(login)).status, 200);
  });

  test('a suspended registration: login 403 device_disabled, its access tokens 401 at once', async () => {
    const p = await person();
    const { app, login } = await boundDevice(p);
    const token = (await app.login(login)).body.accessToken;
    await setRegistrationState(site, p.idNumber, 'suspended');
    assert.equal((await app.devices(token)).status, 401);
    const refused = await app.login(login);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'device_disabled');
  });

  test('invalid input → 400 invalid_input naming the field, in the request language; bad JSON 400, over 100 kB 413, both JSON', async () => {
    const app = appClient(site.t.app, { address: freshAddress() });
    const good = { code: 'ABCDEFGH', ...newDevice() };
    for (const [body, field] of [
      [{ ...good, code: undefined }, 'code'],
      [{ ...good, platform: 42 }, 'platform'],
      [{ ...good, model: '' }, 'model'],
      [{ ...good, deviceId: '<script>' }, 'deviceId'],
      [[good], 'code'],
    ] as const) {
      const res = await app.bind(body);
      assert.equal(res.status, 400, field);
      assert.deepEqual({ error: res.body.error, field: res.body.field }, { error: 'invalid_input', field });
      assert.match(res.body.message, new RegExp(`輸入資料格式不正確：${field}`));
    }
    const en = await appClient(site.t.app, { language: 'en-US,en;q=0.9' }).login({ idNumber: 'a123', password: 'x', deviceId: 'd', deviceToken: 't' });
    assert.equal(en.status, 400);
    assert.equal(en.body.field, 'idNumber');
    assert.equal(en.body.message, 'Invalid input: idNumber');
    const missing = await app.login({ idNumber: 'A123456789', deviceId: 'd1', deviceToken: 't' });
    assert.equal(missing.body.field, 'password');

    const malformed = await request(site.t.app).post('/api/app/v1/devices').set('Content-Type', 'application/json').send('{"code": ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error, 'invalid_input');
    const large = await request(site.t.app).post('/api/app/v1/sessions').set('Content-Type', 'application/json').send(JSON.stringify({ ...good, pad: 'x'.repeat(120_000) }));
    assert.equal(large.status, 413);
    assert.match(large.headers['content-type']!, /^application\/json/);
    assert.equal(large.body.error, 'payload_too_large');
    const unknown = await request(site.t.app).get('/api/app/v1/nothing');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'not_found');
  });

  test('a missing, malformed, tampered or foreign Authorization → 401 invalid_token', async () => {
    const p = await person();
    const { app, login } = await boundDevice(p);
    const token = (await app.login(login)).body.accessToken as string;
    const tampered = token.replace(/\.(\d+)\./, (_m, epoch: string) => `.${Number(epoch) + 1}.`);
    for (const authorization of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', `Bearer  ${token}`, 'Bearer not-a-token', `Bearer ${tampered}`, `bearer${token}`]) {
      const res = await app.devices(undefined, authorization);
      assert.equal(res.status, 401, String(authorization));
      assert.equal(res.body.error, 'invalid_token');
    }
    assert.equal((await app.devices(token)).status, 200);
  });

  test('the API needs no CSRF token and gives no session; the web pages still need theirs', async () => {
    const res = await request(site.t.app).post('/api/app/v1/devices').set('Content-Type', 'application/json').set('X-Forwarded-For', freshAddress()).send({ code: 'ABCDEFGH', ...newDevice() });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_code');
    assert.equal(res.headers['set-cookie'], undefined);
    const web = await request(site.t.app).post('/account/device-verification').type('form').send({});
    assert.equal(web.status, 403);
  });
});
