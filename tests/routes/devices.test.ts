import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as cheerio from 'cheerio';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { appClient, freshAddress, generateDeviceCode, newDevice } from '../helpers/devices.js';
import { auditRows, logIn, PASSWORD, registerActive, setRegistrationState, startLoginSite, type LoginSite } from '../helpers/logins.js';
import { linkTokenHash } from '../../src/platform/tokens/index.js';
import { SERVER_ORIGIN } from '../helpers/card-reads.js';

const CODE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/;

// 行動裝置認證 and 行動裝置管理作業 (SPEC.md "Logged-in services", seed 003 五), as a browser without JS and with HTMX.
describe('devices', () => {
  let site: LoginSite;
  before(async () => {
    site = await startLoginSite();
  });
  after(async () => site?.close());
  beforeEach(() => site.t.clock.set(new Date()));

  const loggedIn = async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    assert.equal((await logIn(site, browser, person.card, PASSWORD)).url, '/account');
    return { ...person, browser, idNumber: person.card.sim.idNumber };
  };

  test('the menu links both device services; without a login they send to the home page', async () => {
    const { browser } = await loggedIn();
    const menu = await browser.get('/account');
    assert.equal(menu.$('.service-menu a[href="/account/device-verification"]').text(), '行動裝置認證');
    assert.equal(menu.$('.service-menu a[href="/account/devices"]').text(), '行動裝置管理作業');
    const anonymous = new BrowserAgent(site.t.app);
    assert.equal((await anonymous.get('/account/device-verification')).url, '/?login=required');
    assert.equal((await anonymous.get('/account/devices')).url, '/?login=required');
  });

  test('行動裝置認證: the masked account and the notes; 產生裝置認證碼 shows the code, its QR image and its expiry in 民國', async () => {
    const { browser, idNumber } = await loggedIn();
    const page = await browser.get('/account/device-verification');
    assert.equal(page.status, 200);
    assert.equal(page.$('.device-account strong').text(), `${idNumber.slice(0, 6)}****`);
    assert.ok(!page.html.includes(idNumber), 'the full ID number is not on the page');
    const notes = page.$('.device-notes').text();
    assert.match(notes, /進行裝置認證需先點選『產生裝置認證碼』按鈕/);
    assert.match(notes, /以讀取QR-Code方式進行裝置認證/);
    assert.match(notes, /將頁面之裝置認證碼明碼輸入手機裝置認證/);
    assert.equal(page.$('.device-code').length, 0, 'no code before the button');

    site.t.clock.set('2020-10-27T08:36:50Z');
    const { page: shown, code } = await generateDeviceCode(browser);
    assert.equal(shown.status, 200);
    assert.match(code, CODE);
    assert.equal(shown.headers['cache-control'], 'no-store');
    assert.match(shown.$('.device-code-expiry').text(), /裝置認證碼有效時間至 民國109年10月27日 16:46:50，若超過裝置認證碼有效時間，請重新產生裝置認證碼。/);
    assert.equal(shown.$('.device-code-qr svg').length, 1, 'the QR code is an inline SVG');
    assert.equal(shown.$('script:not([src])').length, 0, 'no inline script draws it');
    const rows = await auditRows(site);
    const issued = rows.filter((r) => r.action === 'device.code_issue' && r.subject === `${idNumber.slice(0, 6)}****`);
    assert.equal(issued.length, 1);
    assert.ok(!JSON.stringify(rows).includes(code), 'the code is in no audit row');
    const [stored] = await site.t.services.orm.em.fork().getConnection().execute<{ hash: string }[]>('select hash from device_code where id_number = ?', [idNumber]);
    assert.ok(stored && stored.hash !== code && !stored.hash.includes(code), 'only a hash of the code is stored');
  });

  test('in English the expiry is Gregorian', async () => {
    const { browser } = await loggedIn();
    await browser.get('/account/device-verification?lang=en');
    site.t.clock.set('2020-10-27T08:36:50Z');
    const { page } = await generateDeviceCode(browser);
    assert.match(page.$('.device-code-expiry').text(), /valid until 2020-10-27 16:46:50/);
  });

  test('with HTMX 產生裝置認證碼 answers only the code panel', async () => {
    const { browser } = await loggedIn();
    const page = await browser.get('/account/device-verification');
    const csrf = page.$('form.device-code-form input[name=_csrf]').val() as string;
    const fragment = await browser.post('/account/device-verification', { _csrf: csrf }, { 'HX-Request': 'true' });
    assert.equal(fragment.status, 200);
    assert.ok(!fragment.html.includes('<html'), 'a fragment, not a page');
    assert.match(fragment.$('#device-code .device-code strong').text(), CODE);
    assert.equal(fragment.$('#device-code svg').length, 1);
  });

  test('the whole round: code on the page → bind and log in through the app → the table → 停用裝置 refuses the app, 啟用裝置 lets it in, 刪除裝置 removes it', async () => {
    const { browser, idNumber } = await loggedIn();
    const app = appClient(site.t.app, { address: freshAddress() });
    const device = newDevice();
    const { code } = await generateDeviceCode(browser);
    const bound = await app.bind({ code, ...device });
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    const login = { idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken: bound.body.deviceToken };
    const session = await app.login(login);
    assert.equal(session.status, 200);
    const token = session.body.accessToken as string;
    assert.equal((await app.devices(token)).status, 200);

    const table = await browser.get('/account/devices');
    const header = table.$('table.device-table thead th').map((_i, el) => table.$(el).text()).get();
    assert.deepEqual(header, ['平台', '裝置型號', '裝置識別碼', '認證時間', '目前狀態', '管理']);
    const row = table.$('tr.device-row');
    assert.equal(row.length, 1);
    assert.deepEqual(row.find('td').slice(0, 3).map((_i, el) => table.$(el).text()).get(), ['Android', 'Sony Xperia', device.deviceId]);
    assert.match(row.find('td').eq(3).text(), /^民國\d+年\d+月\d+日 \d\d:\d\d:\d\d$/);
    assert.equal(row.find('.device-status').text(), '啟用中');
    assert.equal(row.find('form.device-disable-form button').text(), '停用裝置');
    assert.equal(row.find('form.device-delete-form button').text(), '刪除裝置');
    assert.equal(row.find('form.device-enable-form').length, 0);
    const notes = table.$('.device-notes').text();
    assert.match(notes, /若更換行動裝置或重新安裝APP時，請重新執行【行動裝置認證】。/);
    assert.match(notes, /同一個帳號可啟動多組行動裝置；多個帳號可在同一台裝置認證。/);
    assert.match(notes, /請使用已通過裝置認證且狀態為「已啟用」之行動裝置登入/);

    // 停用裝置 without JS: a form post with the CSRF token, 303, the page again.
    const disabled = await browser.submit({}, 'form.device-disable-form');
    assert.equal(disabled.url, '/account/devices?done=disable');
    assert.match(disabled.$('main .notice').text(), /裝置已停用/);
    assert.equal(disabled.$('tr.device-row .device-status').text(), '停用');
    assert.equal(disabled.$('tr.device-row form.device-enable-form button').text(), '啟用裝置');
    const refused = await app.devices(token);
    assert.equal(refused.status, 401, 'the access token of a disabled device stops at once');
    assert.equal(refused.body.error, 'invalid_token');
    const noLogin = await app.login(login);
    assert.equal(noLogin.status, 403);
    assert.equal(noLogin.body.error, 'device_disabled');

    // 啟用裝置 with HTMX: the row alone comes back.
    const csrf = disabled.$('tr.device-row form.device-enable-form input[name=_csrf]').val() as string;
    const action = disabled.$('tr.device-row form.device-enable-form').attr('action')!;
    assert.equal(disabled.$('tr.device-row form.device-enable-form').attr('hx-post'), action);
    assert.equal(disabled.$('tr.device-row form.device-enable-form').attr('hx-target'), `#${disabled.$('tr.device-row').attr('id')}`);
    assert.equal(disabled.$('tr.device-row form.device-enable-form').attr('hx-swap'), 'outerHTML');
    const enabled = await browser.post(action, { _csrf: csrf }, { 'HX-Request': 'true' });
    assert.equal(enabled.status, 200);
    assert.ok(!enabled.html.includes('<html'), 'a fragment');
    assert.match(enabled.html.trim(), /^<tr id="device-/);
    // A bare <tr> is parsed as HTMX does: inside a table.
    assert.equal(cheerio.load(`<table><tbody>${enabled.html}</tbody></table>`)('tr .device-status').text(), '啟用中');
    const again = await app.login(login);
    assert.equal(again.status, 200, 'enabled again: the app logs in');
    assert.equal((await app.devices(again.body.accessToken)).status, 200);

    // 刪除裝置: gone from the table and from the app.
    await browser.get('/account/devices');
    const deleted = await browser.submit({}, 'form.device-delete-form');
    assert.equal(deleted.url, '/account/devices?done=delete');
    assert.equal(deleted.$('tr.device-row').length, 0);
    assert.match(deleted.$('.device-none').text(), /目前沒有已認證的行動裝置/);
    assert.equal((await app.devices(again.body.accessToken)).status, 401);
    assert.equal((await app.login(login)).body.error, 'device_disabled');

    const actions = (await auditRows(site)).filter((r) => r.subject === `${idNumber.slice(0, 6)}****`).map((r) => r.action);
    for (const a of ['device.code_issue', 'device.bind', 'device.disable', 'device.enable', 'device.delete']) assert.ok(actions.includes(a), a);
  });

  test('the state changes need the CSRF token, and only the person’s own devices change', async () => {
    const owner = await loggedIn();
    const { code } = await generateDeviceCode(owner.browser);
    const device = newDevice();
    assert.equal((await appClient(site.t.app, { address: freshAddress() }).bind({ code, ...device })).status, 201);
    const table = await owner.browser.get('/account/devices');
    const action = table.$('form.device-disable-form').attr('action')!;
    const noToken = await owner.browser.post(action, {});
    assert.equal(noToken.status, 403);
    const other = await loggedIn();
    const page = await other.browser.get('/account/devices');
    const csrf = page.$('form.logout-form input[name=_csrf]').val() as string;
    const foreign = await other.browser.post(action, { _csrf: csrf });
    assert.equal(foreign.url, '/account/devices?done=not-found');
    const [device0] = await site.t.services.api.devices.service.devices(owner.idNumber);
    assert.equal(device0!.status, 'active', "another person cannot disable it");
  });

  test('many devices per person; one device bound by two persons is two rows, each managed alone', async () => {
    const a = await loggedIn();
    const b = await loggedIn();
    const app = appClient(site.t.app, { address: freshAddress() });
    const shared = newDevice('Pixel 8');
    const own = newDevice('iPhone 15');
    assert.equal((await app.bind({ ...shared, code: (await generateDeviceCode(a.browser)).code })).status, 201);
    assert.equal((await app.bind({ ...own, platform: 'iOS', code: (await generateDeviceCode(a.browser)).code })).status, 201);
    const bBound = await app.bind({ ...shared, code: (await generateDeviceCode(b.browser)).code });
    assert.equal(bBound.status, 201);

    const aTable = await a.browser.get('/account/devices');
    assert.equal(aTable.$('tr.device-row').length, 2);
    assert.equal(aTable.$('tr.device-row .device-status').text(), '啟用中啟用中', 'both active at once');
    const bTable = await b.browser.get('/account/devices');
    assert.equal(bTable.$('tr.device-row').length, 1);
    await b.browser.submit({}, 'form.device-disable-form');
    const aLater = await a.browser.get('/account/devices');
    assert.equal(aLater.$('tr.device-row[data-status=active]').length, 2, "B's 停用 leaves A's binding of the same device alone");
    const aLogin = await app.login({ idNumber: a.idNumber, password: PASSWORD, deviceId: shared.deviceId, deviceToken: (await app.bind({ ...shared, code: (await generateDeviceCode(a.browser)).code })).body.deviceToken });
    assert.equal(aLogin.status, 200);
  });

  test('devices bound before the registration was deleted and made again count as gone', async () => {
    const person = await loggedIn();
    const app = appClient(site.t.app, { address: freshAddress() });
    const device = newDevice();
    const bound = await app.bind({ ...device, code: (await generateDeviceCode(person.browser)).code });
    assert.equal(bound.status, 201);
    const { services } = site.t;
    // Deleted (the deletion flow's state change), then applied and confirmed again.
    await setRegistrationState(site, person.idNumber, 'deleted');
    site.t.clock.advance(60_000);
    const registration = services.api.registration.service;
    const { card } = person;
    assert.equal(await registration.apply({
      identity: { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate },
      password: PASSWORD,
      contacts: { email: person.email, mobile: '0912345678' },
      locale: 'zh-TW',
      clientAddress: '127.0.0.1',
    }), 'applied');
    const [mail] = await services.orm.em.fork().getConnection().execute<{ payload: { linkPath: string } }[]>(
      `select payload from outbox_message where template = 'registration-confirmation' and recipient = ? order by created_at desc limit 1`, [person.email]);
    const token = new URL(mail!.payload.linkPath, SERVER_ORIGIN).searchParams.get('token')!;
    assert.equal(await registration.confirm(linkTokenHash(token), { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, readAt: new Date().toISOString() }, { clientAddress: '127.0.0.1' }), 'confirmed');

    const browser = new BrowserAgent(site.t.app);
    await logIn(site, browser, card, PASSWORD);
    assert.equal((await browser.get('/account/devices')).$('tr.device-row').length, 0);
    const login = await app.login({ idNumber: person.idNumber, password: PASSWORD, deviceId: device.deviceId, deviceToken: bound.body.deviceToken });
    assert.equal(login.status, 403);
    assert.equal(login.body.error, 'device_disabled');
  });
});
