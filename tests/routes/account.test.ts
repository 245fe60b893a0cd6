import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { auditRows, logIn, mailsTo, PASSWORD, registerActive, startLoginSite, type LoginSite } from '../helpers/logins.js';

// The logged-in services: the menu, 註冊密碼變更, 基本資料異動 (SPEC.md "Logged-in services").
describe('account', () => {
  let site: LoginSite;
  before(async () => {
    site = await startLoginSite();
  });
  after(async () => site?.close());
  beforeEach(() => site.t.clock.set(new Date()));

  test('the menu links the four services and 登出', async () => {
    const { card } = await registerActive(site);
    const menu = await logIn(site, new BrowserAgent(site.t.app), card, PASSWORD);
    const text = menu.$('.service-menu').text();
    for (const item of ['行動裝置認證', '行動裝置管理作業', '基本資料異動', '註冊密碼變更']) assert.ok(text.includes(item), item);
    assert.equal(menu.$('.service-menu a[href="/account/device-verification"]').length, 1);
    assert.equal(menu.$('.service-menu a[href="/account/devices"]').length, 1);
    assert.equal(menu.$('.service-menu a[href="/account/profile"]').length, 1);
    assert.equal(menu.$('.service-menu a[href="/account/password"]').length, 1);
    assert.equal(menu.$('form.logout-form[method="post"][action="/logout"]').length, 1);
  });

  test("a password change in client A ends client B's session; A stays logged in; the notice goes to the e-mail", async () => {
    const { card, email } = await registerActive(site);
    const clientB = new BrowserAgent(site.t.app);
    assert.equal((await logIn(site, clientB, card, PASSWORD)).url, '/account');
    const clientA = new BrowserAgent(site.t.app);
    await logIn(site, clientA, card, PASSWORD);

    await clientA.get('/account/password');
    const mismatch = await clientA.submit({ password: 'Hsinchu#2028', passwordConfirm: 'Hsinchu#2029' }, 'form[action="/account/password"]');
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.$('#passwordConfirm-error').text(), /兩次輸入的註冊密碼不一致/);
    assert.match(mismatch.$('.error-summary').text(), /兩次輸入的註冊密碼不一致/);
    assert.equal(mismatch.$('#password').attr('value'), undefined, 'passwords are never sent back');
    const idAsPassword = await clientA.submit({ password: card.sim.idNumber, passwordConfirm: card.sim.idNumber }, 'form[action="/account/password"]');
    assert.match(idAsPassword.$('#password-error').text(), /不可與身分證號相同/);

    const done = await clientA.submit({ password: 'Hsinchu#2028', passwordConfirm: 'Hsinchu#2028' }, 'form[action="/account/password"]');
    assert.equal(done.url, '/account');
    assert.match(done.$('main').text(), /註冊密碼變更成功，下次使用【健保卡】登入系統請使用新的註冊密碼!/);
    assert.equal((await clientA.get('/account')).url, '/account', 'A stays logged in');
    const b = await clientB.get('/account');
    assert.equal(b.url, '/?login=ended', "B's earlier session is rejected");
    assert.match(b.$('.login-box .notice').text(), /您的登入已結束/);
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), card, 'Hsinchu#2028')).url, '/account');
    assert.ok((await mailsTo(site, email)).some((m) => m.subject === '健保卡網路服務註冊-註冊密碼變更通知'));
  });

  test('基本資料異動: prefilled; errors beside fields with values kept; saved → 資料儲存成功; a new main e-mail is told to the old one', async () => {
    const { card, email } = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    await logIn(site, browser, card, PASSWORD);
    const form = await browser.get('/account/profile');
    assert.equal(form.$('#email').val(), email);
    assert.equal(form.$('#mobile').val(), '0912345678');

    const bad = await browser.submit({ email: 'not-an-address', localPhoneArea: '2', localPhoneNumber: '27065866' }, 'form[action="/account/profile"]');
    assert.equal(bad.status, 400);
    assert.match(bad.$('#email-error').text(), /E-Mail 格式不正確/);
    assert.match(bad.$('#localPhoneArea-error').text(), /區碼/);
    assert.equal(bad.$('#email').val(), 'not-an-address', 'what was typed is kept');
    assert.equal(bad.$('#localPhoneNumber').val(), '27065866');
    assert.equal((await site.t.services.api.registration.service.account(card.sim.idNumber))!.email, email, 'nothing saved');

    const saved = await browser.submit(
      { email: 'moved@example.com.tw', spareEmail: 'spare@example.com.tw', localPhoneArea: '02', localPhoneNumber: '27065866', localPhoneExt: '123', mobile: '0987654321' },
      'form[action="/account/profile"]',
    );
    assert.equal(saved.url, '/account/profile');
    assert.match(saved.$('main .notice').text(), /資料儲存成功/);
    assert.equal(saved.$('#email').val(), 'moved@example.com.tw');
    assert.equal(saved.$('#localPhoneExt').val(), '123');
    const account = (await site.t.services.api.registration.service.account(card.sim.idNumber))!;
    assert.deepEqual(
      { email: account.email, spareEmail: account.spareEmail, localPhone: account.localPhone, mobile: account.mobile },
      { email: 'moved@example.com.tw', spareEmail: 'spare@example.com.tw', localPhone: '02-27065866#123', mobile: '0987654321' },
    );
    const told = (await mailsTo(site, email)).filter((m) => m.subject === '健保卡網路服務註冊-電子郵件信箱變更通知');
    assert.equal(told.length, 1, 'the OLD address is told');
    assert.equal((await mailsTo(site, 'moved@example.com.tw')).length, 0);

    const audit = await auditRows(site);
    const change = audit.find((a) => a.action === 'account.contacts_change' && a.subject === `${card.sim.idNumber.slice(0, 6)}****`);
    assert.ok(change);
    assert.equal((change.detail as { emailChanged: boolean }).emailChanged, true);
    assert.ok(audit.some((a) => a.action === 'password.change' || a.action === 'login'));
    const all = JSON.stringify(audit);
    for (const secret of [card.sim.idNumber, PASSWORD]) assert.ok(!all.includes(secret), 'no password or full ID in the audit table');
    assert.ok(audit.every((a) => typeof a.client_address === 'string' && a.client_address), 'every row says from where');
  });
});
