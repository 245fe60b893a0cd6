import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestApp, type TestApp } from '../helpers/app.js';
import type { BrowserAgent, Page } from '../helpers/browser-agent.js';
import { insertTestCard } from '../helpers/card-reads.js';
import { registerAtCounter } from '../helpers/counter.js';
import { appClient, freshAddress, newDevice } from '../helpers/devices.js';
import { tryLogIn } from '../helpers/logins.js';
import { staffBrowser } from '../helpers/staff.js';

const PASSWORD = 'Taipei#2026';

/** A person registered at the counter with a phone bound on the spot: the card, the device and its access token. */
async function registeredWithPhone(t: TestApp) {
  const card = await insertTestCard(t.services);
  const { browser: clerk } = await staffBrowser(t, 'clerk');
  const done = await registerAtCounter(t, clerk, card, { deviceCode: true });
  const app = appClient(t.app, { address: freshAddress() });
  const device = newDevice();
  const bound = await app.bind({ code: done.$('.device-code strong').text().trim(), ...device });
  assert.equal(bound.status, 201, bound.text);
  const login = await app.login({ idNumber: card.sim.idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken: bound.body.deviceToken });
  assert.equal(login.status, 200, login.text);
  return { card, app, device, deviceToken: bound.body.deviceToken as string, accessToken: login.body.accessToken as string };
}

/** The lookup page of a person, found by what the clerk typed. */
async function lookUp(browser: BrowserAgent, query: string): Promise<Page> {
  await browser.get('/intranet/persons');
  return browser.submit({ q: query }, 'form.person-search-form');
}

describe('counter intranet: looking a person up and acting on the registration', () => {
  const t = useTestApp({ rateLimits: { login: { points: 1000, durationSeconds: 60 }, accountSteps: { points: 1000, durationSeconds: 60 } } });

  test('a lookup by ID number or card number shows state, masked contacts, devices, lockout and recent events; no ID number in any URL', async () => {
    const { card } = await registeredWithPhone(t);
    const { browser } = await staffBrowser(t, 'clerk');
    for (const query of [card.sim.idNumber, card.sim.idNumber.toLowerCase(), card.sim.cardNumber]) {
      const page = await lookUp(browser, query);
      assert.equal(page.url, '/intranet/person');
      assert.equal(page.$('.person-id').text(), `${card.sim.idNumber.slice(0, 6)}****`);
      assert.equal(page.$('.person-name').text(), card.sim.name);
      assert.equal(page.$('.person-state').text(), '已啟用');
      assert.match(page.$('.person-email').text(), /^c\*\*\*\*@example\.com\.tw$/);
      assert.equal(page.$('.person-mobile').text(), '0912****78');
      assert.equal(page.$('.device-table tbody tr').length, 1);
      assert.match(page.$('.person-lock').text(), /未鎖定/);
      assert.match(page.$('.event-table').text(), /registration\.counter_register/);
      assert.ok(!page.html.includes(`>${card.sim.idNumber}<`), 'the full ID number is not shown as text');
    }
    const missing = await lookUp(browser, 'A100000001');
    assert.equal(missing.status, 404);
    assert.match(missing.$('#q-error').text(), /查無此身分證號或健保卡號/);
    assert.equal(missing.$('#q').val(), 'A100000001');
  });

  test('a suspended person is logged out everywhere at once and their app token fails; reinstating restores login and leaves devices disabled', async () => {
    const { card, app, device, deviceToken, accessToken } = await registeredWithPhone(t);
    const web = await tryLogIn(t, card, PASSWORD);
    assert.equal(web.page.url, '/account');
    assert.equal((await app.devices(accessToken)).status, 200);

    const { browser: clerk } = await staffBrowser(t, 'clerk');
    await lookUp(clerk, card.sim.idNumber);
    const noReason = await clerk.submit({ reason: '' }, 'form.suspend-form');
    assert.equal(noReason.status, 400);
    assert.match(noReason.$('#reason-error').text(), /請輸入停用原因/);
    assert.match(noReason.$('.error-summary').text(), /請輸入停用原因/);
    assert.equal((await t.services.api.registration.service.account(card.sim.idNumber))!.state, 'active', 'nothing done without a reason');

    const suspended = await clerk.submit({ reason: '民眾臨櫃申請停用（手機遺失）' }, 'form.suspend-form');
    assert.equal(suspended.url, '/intranet/person');
    assert.match(suspended.$('main .notice').text(), /已停用此民眾之註冊/);
    assert.equal(suspended.$('.person-state').text(), '已停用');
    assert.equal(suspended.$('.device-status').text(), '停用');
    assert.equal(suspended.$('form.reinstate-form').length, 0, 'a clerk is not offered 恢復註冊');

    assert.equal((await web.browser.get('/account')).url, '/?login=ended', 'the web session ended');
    assert.equal((await app.devices(accessToken)).status, 401, 'the app token fails at once');
    assert.equal((await tryLogIn(t, card, PASSWORD)).page.status, 400, 'login is refused while suspended');
    assert.equal((await clerk.post('/intranet/person/reinstate', { _csrf: suspended.$('input[name="_csrf"]').val() as string, person: card.sim.idNumber })).status, 403);

    const { browser: supervisor } = await staffBrowser(t, 'supervisor');
    await lookUp(supervisor, card.sim.cardNumber);
    const reinstated = await supervisor.submit({}, 'form.reinstate-form');
    assert.match(reinstated.$('main .notice').text(), /已恢復註冊/);
    assert.equal(reinstated.$('.person-state').text(), '已啟用');
    assert.equal((await tryLogIn(t, card, PASSWORD)).page.url, '/account', 'login works again');
    assert.equal((await app.devices(accessToken)).status, 401, 'the old token stays ended');
    const appAgain = await app.login({ idNumber: card.sim.idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken });
    assert.equal(appAgain.status, 403, appAgain.text);
    assert.equal(appAgain.body.error, 'device_disabled', 'the device stays disabled until the person enables it');

    const [row] = await t.services.orm.em.fork().getConnection().execute(
      `select actor_id, detail from audit_event where action = 'registration.suspend' and subject_key = ?`, [t.services.audit.personKey(card.sim.idNumber)]);
    assert.equal(row.detail.reason, '民眾臨櫃申請停用（手機遺失）');
    assert.equal(row.detail.devicesDisabled, 1);
  });

  test('a second suspend (another tab) changes nothing more and says so', async () => {
    const { card } = await registeredWithPhone(t);
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const page = await lookUp(clerk, card.sim.idNumber);
    const csrf = page.$('form.suspend-form input[name="_csrf"]').val() as string;
    await clerk.submit({ reason: '第一次' }, 'form.suspend-form');
    const again = await clerk.post('/intranet/person/suspend', { _csrf: csrf, person: card.sim.idNumber, reason: '第二次' });
    assert.match(again.$('main .notice').text(), /此註冊目前不是啟用狀態/);
    const rows = await t.services.orm.em.fork().getConnection().execute(`select 1 from audit_event where action = 'registration.suspend' and subject_key = ?`, [t.services.audit.personKey(card.sim.idNumber)]);
    assert.equal(rows.length, 1);
  });

  test('an action from a page that showed another person is refused', async () => {
    const first = await registeredWithPhone(t);
    const second = await registeredWithPhone(t);
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const page = await lookUp(clerk, first.card.sim.idNumber);
    const csrf = page.$('form.suspend-form input[name="_csrf"]').val() as string;
    await lookUp(clerk, second.card.sim.idNumber);
    const stale = await clerk.post('/intranet/person/suspend', { _csrf: csrf, person: first.card.sim.idNumber, reason: '舊分頁' });
    assert.match(stale.$('main .notice').text(), /此頁面已過期/);
    for (const { card } of [first, second]) assert.equal((await t.services.api.registration.service.account(card.sim.idNumber))!.state, 'active');
  });

  test('a locked person is unlocked at the counter and the right password works again', async () => {
    const { card } = await registeredWithPhone(t);
    for (let i = 0; i < 5; i++) await t.services.api.credentials.checkPassword(card.sim.idNumber, `Wrong#${i}000`, { clientAddress: '127.0.0.1' });
    assert.equal((await tryLogIn(t, card, PASSWORD)).page.status, 400, 'locked');
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const page = await lookUp(clerk, card.sim.idNumber);
    assert.match(page.$('.person-lock').text(), /已鎖定/);
    const unlocked = await clerk.submit({}, 'form.unlock-form');
    assert.match(unlocked.$('main .notice').text(), /已解除密碼鎖定/);
    assert.equal(unlocked.$('form.unlock-form').length, 0);
    assert.equal((await tryLogIn(t, card, PASSWORD)).page.url, '/account');
  });

  test('the confirmation mail of a pending application is sent again from the counter', async () => {
    const card = await insertTestCard(t.services);
    const registration = t.services.api.registration.service;
    await registration.apply({
      identity: { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate },
      password: PASSWORD, contacts: { email: 'pending@example.com.tw', mobile: '0912345678' }, locale: 'zh-TW', clientAddress: '127.0.0.1',
    });
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const page = await lookUp(clerk, card.sim.idNumber);
    assert.equal(page.$('.person-state').text(), '已申請，待 E-Mail 認證');
    const sent = await clerk.submit({}, 'form.resend-form');
    assert.match(sent.$('main .notice').text(), /已重寄認證信/);
    const mails = await t.services.orm.em.fork().getConnection().execute(`select 1 from outbox_message where recipient = 'pending@example.com.tw' and template = 'registration-confirmation'`);
    assert.equal(mails.length, 2);
  });

  test('in English', async () => {
    const { card } = await registeredWithPhone(t);
    const { browser } = await staffBrowser(t, 'clerk');
    await browser.get('/intranet/persons?lang=en');
    const page = await browser.submit({ q: card.sim.idNumber }, 'form.person-search-form');
    assert.equal(page.$('.person-state').text(), 'Active');
    assert.match(page.$('form.suspend-form button').text(), /Suspend the registration/);
  });
});
