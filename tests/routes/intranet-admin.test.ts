import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cardKeyPairFromSeed, generateSeed, signCardAssertion } from '../../src/agent/index.js';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import { insertTestCard, SERVER_ORIGIN } from '../helpers/card-reads.js';
import { createStaff, STAFF_PASSWORD, staffBrowser, staffLogIn } from '../helpers/staff.js';

const NEW_PASSWORD = 'Fresh-counter-pass-9';

// 人員帳號管理 and 臨櫃讀卡端末管理: what an administrator does in the browser, and what nobody else may.
describe('counter intranet: staff accounts and terminals (admin)', () => {
  const t = useTestApp({ rateLimits: { login: { points: 1000, durationSeconds: 60 } } });

  const csrfOf = (page: Page) => page.$('input[name="_csrf"]').first().val() as string;
  const auditRows = (action: string, subject: string) =>
    t.services.orm.em.fork().getConnection().execute<{ actor_id: string | null; outcome: string; client_address: string | null; detail: Record<string, unknown> | null }[]>(
      `select actor_id, outcome, client_address, detail from audit_event where action = ? and subject = ? order by id`,
      [action, subject],
    );
  const row = (page: Page, username: string) => page.$(`tr[data-username="${username}"]`);
  const wrongLogin = async (username: string, password: string) => {
    const browser = new BrowserAgent(t.app);
    await browser.get('/intranet/login');
    return browser.submit({ username, password }, 'form.staff-login-form');
  };
  const newTerminal = () => ({ terminalId: `T-${randomBytes(4).toString('hex')}`, publicKey: cardKeyPairFromSeed(generateSeed()).publicKey });

  describe('人員帳號管理', () => {
    test('an admin creates a clerk account, sees it listed, and the clerk can then log in', async () => {
      const { browser, username: admin } = await staffBrowser(t, 'admin');
      const menu = await browser.get('/intranet');
      assert.equal(menu.$('.service-menu a[href="/intranet/staff"]').length, 1);
      const form = await browser.get('/intranet/staff/new');
      assert.equal(form.status, 200);
      assert.notEqual(form.$('#username').attr('autofocus'), undefined);
      const done = await browser.submit({ username: 'desk.chen', role: 'clerk', password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }, 'form.staff-new-form');
      assert.equal(done.url, '/intranet/staff');
      assert.match(done.$('main .notice').text(), /已建立帳號 desk\.chen（櫃台人員）/);
      const listed = row(done, 'desk.chen');
      assert.match(listed.find('.staff-role').text(), /櫃台人員/);
      assert.equal(listed.find('.staff-state').text().trim(), '啟用');
      assert.match(listed.text(), new RegExp(admin), 'created by the admin');
      assert.equal(listed.find('form.staff-unlock-form').length, 0, 'no 解除鎖定 for an account that is not locked');
      assert.equal((await browser.get('/intranet/staff')).$('main .notice').length, 0, 'the notice is shown once');

      const clerk = await staffLogIn(t, 'desk.chen', NEW_PASSWORD);
      const clerkMenu = await clerk.get('/intranet');
      assert.equal(clerkMenu.$('.service-menu a[href="/intranet/register"]').length, 1);
      const [audit] = await auditRows('staff.create', 'staff:desk.chen');
      assert.equal(audit?.actor_id, admin);
      assert.equal(audit?.detail?.role, 'clerk');
      assert.ok(!JSON.stringify(audit).includes(NEW_PASSWORD));
    });

    test('wrong input on the new-account page is said beside each field and in the summary; the username and role stay, passwords do not; nothing is saved', async () => {
      const { browser } = await staffBrowser(t, 'admin');
      const before = (await t.services.api.intranet.staff.list()).length;
      await browser.get('/intranet/staff/new');
      const bad = await browser.submit({ username: 'Bad name!', role: 'supervisor', password: 'short', passwordConfirm: 'short' }, 'form.staff-new-form');
      assert.equal(bad.status, 400);
      assert.match(bad.$('#username-error').text(), /3 至 32 個小寫英文字母/);
      assert.match(bad.$('#password-error').text(), /12 至 128/);
      assert.match(bad.$('.error-summary').text(), /3 至 32 個小寫英文字母/);
      assert.match(bad.$('.error-summary').text(), /12 至 128/);
      assert.equal(bad.$('#username').val(), 'Bad name!');
      assert.equal(bad.$('#role option[selected]').val(), 'supervisor');
      assert.equal(bad.$('#password').attr('value'), undefined);
      assert.equal(bad.$('#passwordConfirm').attr('value'), undefined);
      assert.match(bad.$('title').text(), /^錯誤：/);

      const mismatch = await browser.submit({ username: 'desk.lin', role: 'clerk', password: NEW_PASSWORD, passwordConfirm: `${NEW_PASSWORD}x` }, 'form.staff-new-form');
      assert.equal(mismatch.status, 400);
      assert.match(mismatch.$('#passwordConfirm-error').text(), /兩次輸入的密碼不一致/);
      assert.equal(mismatch.$('#username').val(), 'desk.lin');

      const withName = await browser.submit({ username: 'desk.lin', role: 'clerk', password: 'desk.lin-password', passwordConfirm: 'desk.lin-password' }, 'form.staff-new-form');
      assert.match(withName.$('#password-error').text(), /不可包含帳號/);

      const noRole = await browser.submit({ username: 'desk.lin', role: 'boss', password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }, 'form.staff-new-form');
      assert.equal(noRole.status, 400);
      assert.match(noRole.$('#role-error').text(), /請選擇角色/);
      assert.equal(await t.services.api.intranet.staff.find('desk.lin'), null, 'nothing was saved');
      assert.equal((await t.services.api.intranet.staff.list()).length, before);

      const existing = await createStaff(t, 'clerk');
      const taken = await browser.submit({ username: existing, role: 'admin', password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }, 'form.staff-new-form');
      assert.equal(taken.status, 400);
      assert.match(taken.$('#username-error').text(), /此帳號已有人使用/);
      assert.match(taken.$('.error-summary a[href="#username"]').text(), /此帳號已有人使用/);
      assert.equal(taken.$('#username').val(), existing);
      assert.equal((await t.services.api.intranet.staff.find(existing))!.role, 'clerk', 'the existing account is untouched');
      // The same account made twice: the second is refused, the first stands.
      await browser.get('/intranet/staff/new');
      assert.equal((await browser.submit({ username: 'desk.wu', role: 'clerk', password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }, 'form.staff-new-form')).url, '/intranet/staff');
      await browser.get('/intranet/staff/new');
      const twice = await browser.submit({ username: 'desk.wu', role: 'supervisor', password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }, 'form.staff-new-form');
      assert.match(twice.$('#username-error').text(), /此帳號已有人使用/);
      assert.equal((await t.services.api.intranet.staff.find('desk.wu'))!.role, 'clerk');
    });

    test('changing a role ends that person’s session; logged in again, their menu is the new role’s', async () => {
      const { browser: admin, username: adminName } = await staffBrowser(t, 'admin');
      const { browser: clerk, username } = await staffBrowser(t, 'clerk');
      assert.equal((await clerk.get('/intranet')).$('.service-menu a[href="/intranet/employers"]').length, 0);
      const list = await admin.get('/intranet/staff');
      assert.equal(row(list, username).find(`#role-${username} option[selected]`).val(), 'clerk');
      const done = await admin.submit({ role: 'supervisor' }, `form[action="/intranet/staff/${username}/role"]`);
      assert.equal(done.url, '/intranet/staff');
      assert.match(done.$('main .notice').text(), new RegExp(`已將 ${username} 的角色變更為櫃台主管`));
      assert.match(row(done, username).find('.staff-role').text(), /櫃台主管/);

      assert.equal((await clerk.get('/intranet')).url, '/intranet/login?login=ended');
      const again = await staffLogIn(t, username);
      const menu = await again.get('/intranet');
      assert.match(menu.$('.intranet-user').text(), /櫃台主管/);
      assert.equal(menu.$('.service-menu a[href="/intranet/employers"]').length, 1, 'a supervisor designates employer admins');
      assert.equal(menu.$('.service-menu a[href="/intranet/staff"]').length, 0);

      const [audit] = await auditRows('staff.role', `staff:${username}`);
      assert.equal(audit?.actor_id, adminName);
      assert.equal(audit?.detail?.role, 'supervisor');
      // The same role again changes nothing, so the new session goes on.
      await admin.get('/intranet/staff');
      const same = await admin.submit({ role: 'supervisor' }, `form[action="/intranet/staff/${username}/role"]`);
      assert.match(same.$('main .notice').text(), /未變更/);
      assert.equal((await again.get('/intranet')).url, '/intranet');
    });

    test('disabling an account ends its session and stops its login; enabling restores it', async () => {
      const { browser: admin } = await staffBrowser(t, 'admin');
      const { browser: clerk, username } = await staffBrowser(t, 'clerk');
      await admin.get('/intranet/staff');
      const disabled = await admin.submit({}, `form[action="/intranet/staff/${username}/disable"]`);
      assert.match(disabled.$('main .notice').text(), new RegExp(`已停用 ${username}`));
      assert.equal(row(disabled, username).find('.staff-state').text().trim(), '停用');
      assert.equal(row(disabled, username).find('form.staff-enable-form').length, 1);
      assert.equal((await clerk.get('/intranet')).url, '/intranet/login?login=ended');
      const refused = await wrongLogin(username, STAFF_PASSWORD);
      assert.equal(refused.status, 400);
      assert.match(refused.$('#password-error').text(), /帳號或密碼錯誤/);

      const twice = await admin.post(`/intranet/staff/${username}/disable`, { _csrf: csrfOf(disabled) });
      assert.match(twice.$('main .notice').text(), /未變更/);

      const enabled = await admin.submit({}, `form[action="/intranet/staff/${username}/enable"]`);
      assert.match(enabled.$('main .notice').text(), new RegExp(`已啟用 ${username}`));
      assert.equal(row(enabled, username).find('.staff-state').text().trim(), '啟用');
      await staffLogIn(t, username);
      assert.equal((await auditRows('staff.disable', `staff:${username}`)).length, 1);
      assert.equal((await auditRows('staff.enable', `staff:${username}`)).length, 1);
    });

    test('an account locked by five wrong passwords shows 鎖定; 解除鎖定 lets the right password in', async () => {
      const { browser: admin } = await staffBrowser(t, 'admin');
      const username = await createStaff(t, 'clerk');
      for (let i = 0; i < 5; i++) assert.equal((await wrongLogin(username, `Wrong-password-${i}`)).status, 400);
      assert.equal((await wrongLogin(username, STAFF_PASSWORD)).status, 400, 'locked: the right password is refused');
      const list = await admin.get('/intranet/staff');
      assert.match(row(list, username).find('.staff-state').text(), /鎖定/);
      const unlocked = await admin.submit({}, `form[action="/intranet/staff/${username}/unlock"]`);
      assert.match(unlocked.$('main .notice').text(), new RegExp(`已解除 ${username} 的鎖定`));
      assert.equal(row(unlocked, username).find('form.staff-unlock-form').length, 0);
      assert.doesNotMatch(row(unlocked, username).find('.staff-state').text(), /鎖定/);
      await staffLogIn(t, username);
    });

    test('受理重設密碼: an admin sets a new password for a locked-out clerk; the lock and their sessions end, the old password stops working', async () => {
      const { browser: admin, username: adminName } = await staffBrowser(t, 'admin');
      const { browser: clerk, username } = await staffBrowser(t, 'clerk');
      for (let i = 0; i < 5; i++) await wrongLogin(username, `Wrong-password-${i}`);
      const list = await admin.get('/intranet/staff');
      const form = await admin.get(row(list, username).find('a.staff-password-link').attr('href')!);
      assert.equal(form.status, 200);
      assert.match(form.$('main').text(), new RegExp(username));
      const short = await admin.submit({ password: 'short', passwordConfirm: 'short' }, 'form.staff-reset-form');
      assert.equal(short.status, 400);
      assert.match(short.$('#password-error').text(), /12 至 128/);
      assert.match(short.$('.error-summary').text(), /12 至 128/);
      const mismatch = await admin.submit({ password: NEW_PASSWORD, passwordConfirm: 'Something-else-12' }, 'form.staff-reset-form');
      assert.match(mismatch.$('#passwordConfirm-error').text(), /兩次輸入的密碼不一致/);
      assert.equal(mismatch.$('#password').attr('value'), undefined);
      const done = await admin.submit({ password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }, 'form.staff-reset-form');
      assert.equal(done.url, '/intranet/staff');
      assert.match(done.$('main .notice').text(), new RegExp(`已為 ${username} 設定新密碼`));
      assert.doesNotMatch(row(done, username).find('.staff-state').text(), /鎖定/);

      assert.equal((await clerk.get('/intranet')).url, '/intranet/login?login=ended');
      assert.equal((await wrongLogin(username, STAFF_PASSWORD)).status, 400, 'the old password no longer works');
      await staffLogIn(t, username, NEW_PASSWORD);
      const [audit] = await auditRows('staff.password_reset', `staff:${username}`);
      assert.equal(audit?.actor_id, adminName);
      assert.ok(!JSON.stringify(audit).includes(NEW_PASSWORD));
    });

    test('an admin cannot disable or demote their own account: refused with a message, and they stay an admin', async () => {
      const { browser, username } = await staffBrowser(t, 'admin');
      const list = await browser.get('/intranet/staff');
      const own = row(list, username);
      assert.equal(own.find('form').length, 0, 'no forms on one’s own row');
      assert.match(own.text(), /本人帳號/);
      for (const [path, fields] of [['disable', {}], ['role', { role: 'clerk' }]] as const) {
        const refused = await browser.post(`/intranet/staff/${username}/${path}`, { _csrf: csrfOf(list), ...fields });
        assert.equal(refused.status, 400, path);
        assert.match(refused.$('.error-summary').text(), /不能停用或變更自己的帳號/);
        assert.equal(refused.$(`.error-summary a[href="#staff-${username}"]`).length, 1);
      }
      const account = await t.services.api.intranet.staff.find(username);
      assert.equal(account?.role, 'admin');
      assert.equal(account?.disabled, false);
      assert.equal((await browser.get('/intranet/staff')).url, '/intranet/staff', 'their session goes on');
      assert.equal((await browser.get(`/intranet/staff/${username}/password`)).url, '/intranet/password', 'their own password is changed with the current one');
      const refusals = [...(await auditRows('staff.disable', `staff:${username}`)), ...(await auditRows('staff.role', `staff:${username}`))];
      assert.deepEqual(refusals.map((r) => [r.actor_id, r.outcome]), [[username, 'refused'], [username, 'refused']]);
    });

    test('a change of an account that does not exist says so', async () => {
      const { browser } = await staffBrowser(t, 'admin');
      const list = await browser.get('/intranet/staff');
      const page = await browser.post('/intranet/staff/nobody.here/disable', { _csrf: csrfOf(list) });
      assert.equal(page.status, 404);
      assert.match(page.$('.error-summary').text(), /找不到帳號 nobody\.here/);
      assert.equal((await browser.get('/intranet/staff/nobody.here/password')).status, 404);
    });
  });

  describe('臨櫃讀卡端末管理', () => {
    test('an admin enrols a terminal from what the agent printed; it is listed, audited, and its key is active', async () => {
      const { browser, username } = await staffBrowser(t, 'admin');
      const { terminalId, publicKey } = newTerminal();
      const page = await browser.get('/intranet/terminals');
      assert.equal(page.status, 200);
      assert.match(page.$('#enrol-help').text(), /npm run agent -- enroll/);
      assert.notEqual(page.$('#terminalId').attr('autofocus'), undefined);
      const done = await browser.submit({ terminalId, publicKey, label: '台北業務組 櫃台 3' }, 'form.terminal-enrol-form');
      assert.equal(done.url, '/intranet/terminals');
      assert.match(done.$('main .notice').text(), new RegExp(`已登錄端末 ${terminalId}（台北業務組 櫃台 3）`));
      const listed = done.$(`#terminal-${terminalId}`);
      assert.match(listed.text(), /台北業務組 櫃台 3/);
      assert.match(listed.find('.terminal-state').text(), /使用中/);
      assert.equal(listed.find('form.terminal-revoke-form button').text().trim(), `撤銷 ${terminalId}`);
      assert.equal(await t.services.readerTerminals.activeKey(terminalId), publicKey);
      const [audit] = await auditRows('reader_terminal.enroll', terminalId);
      assert.equal(audit?.actor_id, username);
      assert.equal(audit?.outcome, 'success');
      assert.ok(audit?.client_address, 'where it was done from');
    });

    test('wrong terminal input is said beside each field and in the summary, what was typed stays; an id enrolled before is refused', async () => {
      const { browser } = await staffBrowser(t, 'admin');
      await browser.get('/intranet/terminals');
      const bad = await browser.submit({ terminalId: 'T-XYZ', publicKey: 'short', label: '  ' }, 'form.terminal-enrol-form');
      assert.equal(bad.status, 400);
      assert.match(bad.$('#terminalId-error').text(), /T- 加 8 個小寫十六進位字元/);
      assert.match(bad.$('#publicKey-error').text(), /43 個字元的 base64url/);
      assert.match(bad.$('#label-error').text(), /1 至 100 字/);
      assert.equal(bad.$('.error-summary li').length, 3);
      assert.equal(bad.$('#terminalId').val(), 'T-XYZ');
      assert.equal(bad.$('#publicKey').val(), 'short');
      assert.equal(bad.$('#terminal-T-XYZ').length, 0);

      const { terminalId, publicKey } = newTerminal();
      await t.services.readerTerminals.enroll({ terminalId, publicKey, label: '臨櫃 1 號' });
      const again = await browser.submit({ terminalId, publicKey: newTerminal().publicKey, label: '臨櫃 9 號' }, 'form.terminal-enrol-form');
      assert.equal(again.status, 400);
      assert.match(again.$('#terminalId-error').text(), new RegExp(`端末 ${terminalId} 已登錄過`));
      assert.match(again.$('.error-summary a[href="#terminalId"]').text(), /已登錄過/);
      assert.equal(again.$('#label').val(), '臨櫃 9 號');
      assert.equal(await t.services.readerTerminals.activeKey(terminalId), publicKey, 'the enrolled key stays');
      assert.equal(again.$(`#terminal-${terminalId}`).text().includes('臨櫃 9 號'), false);
    });

    test('撤銷 lists the terminal as revoked, and a read it signs is no longer accepted', async () => {
      const { browser, username } = await staffBrowser(t, 'admin');
      const seed = generateSeed();
      const terminalId = `T-${randomBytes(4).toString('hex')}`;
      await browser.get('/intranet/terminals');
      await browser.submit({ terminalId, publicKey: cardKeyPairFromSeed(seed).publicKey, label: '臨櫃 5 號' }, 'form.terminal-enrol-form');

      const card = await insertTestCard(t.services);
      const cardReads = t.services.api.cardReads.service;
      const counterRead = async () => {
        const request = cardReads.open({ binding: `b-${randomBytes(4).toString('hex')}`, purpose: 'counter', returnTo: '/intranet' });
        const assertion = await signCardAssertion({
          privateKeySeed: seed,
          kid: `terminal:${terminalId}`,
          payload: {
            v: 1, req: request.id, challenge: request.challenge, aud: SERVER_ORIGIN, iat: Math.floor(t.clock.now().getTime() / 1000),
            card: { number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn },
          },
        });
        return (await cardReads.receive(request.id, { assertion }, '127.0.0.1')).kind;
      };
      assert.equal(await counterRead(), 'verified', 'an enrolled terminal’s read is accepted');

      const revoked = await browser.submit({}, `form[action="/intranet/terminals/${terminalId}/revoke"]`);
      assert.equal(revoked.url, '/intranet/terminals');
      assert.match(revoked.$('main .notice').text(), new RegExp(`已撤銷端末 ${terminalId}`));
      const listed = revoked.$(`#terminal-${terminalId}`);
      assert.match(listed.find('.terminal-state').text(), /已撤銷/);
      assert.equal(listed.find('form').length, 0, 'no 撤銷 on a revoked row');
      assert.equal(await t.services.readerTerminals.activeKey(terminalId), null);
      assert.equal(await counterRead(), 'failed', 'a revoked terminal’s read is refused');

      const twice = await browser.post(`/intranet/terminals/${terminalId}/revoke`, { _csrf: csrfOf(revoked) });
      assert.match(twice.$('main .notice').text(), /未登錄或已撤銷/);
      const audit = await auditRows('reader_terminal.revoke', terminalId);
      assert.deepEqual(audit.map((r) => [r.actor_id, r.outcome]), [[username, 'success']]);
    });
  });

  test('a clerk and a supervisor get 403 on the staff and terminal pages and on their POSTs; nothing changes', async () => {
    const victim = await createStaff(t, 'clerk');
    const { terminalId, publicKey } = newTerminal();
    await t.services.readerTerminals.enroll({ terminalId, publicKey, label: '臨櫃 7 號' });
    for (const role of ['clerk', 'supervisor'] as const) {
      const { browser } = await staffBrowser(t, role);
      const menu = await browser.get('/intranet');
      assert.equal(menu.$('.service-menu a[href="/intranet/staff"], .service-menu a[href="/intranet/terminals"]').length, 0);
      const csrf = csrfOf(menu);
      for (const path of ['/intranet/staff', '/intranet/staff/new', `/intranet/staff/${victim}/password`, '/intranet/terminals']) {
        const page = await browser.get(path);
        assert.equal(page.status, 403, `${role} GET ${path}`);
        assert.match(page.$('h1').text(), /無此作業權限/);
      }
      const posts: [string, Record<string, string>][] = [
        ['/intranet/staff/new', { username: `made.by.${role}`, role: 'admin', password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }],
        [`/intranet/staff/${victim}/role`, { role: 'admin' }],
        [`/intranet/staff/${victim}/disable`, {}],
        [`/intranet/staff/${victim}/password`, { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }],
        ['/intranet/terminals', { ...newTerminal(), label: 'sneaky' }],
        [`/intranet/terminals/${terminalId}/revoke`, {}],
      ];
      for (const [path, fields] of posts) {
        const page = await browser.post(path, { _csrf: csrf, ...fields });
        assert.equal(page.status, 403, `${role} POST ${path}`);
        assert.match(page.$('h1').text(), /無此作業權限/, 'refused for the role, not for the CSRF token');
      }
      assert.equal(await t.services.api.intranet.staff.find(`made.by.${role}`), null);
    }
    const account = await t.services.api.intranet.staff.find(victim);
    assert.deepEqual([account?.role, account?.disabled], ['clerk', false]);
    await staffLogIn(t, victim);
    assert.equal(await t.services.readerTerminals.activeKey(terminalId), publicKey);
  });

  test('in English', async () => {
    const { browser, username } = await staffBrowser(t, 'admin');
    const clerk = await createStaff(t, 'clerk');
    const list = await browser.get('/intranet/staff?lang=en');
    assert.equal(list.$('h1').text(), 'Staff accounts');
    assert.match(list.$('.staff-table thead').text(), /Username.*Role.*State.*Created.*Created by.*Actions/s);
    assert.match(row(list, clerk).find('.staff-role').text(), /Counter clerk/);
    assert.equal(row(list, clerk).find('.staff-state').text().trim(), 'Active');
    assert.match(row(list, clerk).find('form.staff-role-form button').text(), /Change role/);
    assert.match(row(list, clerk).find('form.staff-disable-form button').text(), /Disable/);
    assert.match(row(list, username).text(), /Your own account/);
    const disabled = await browser.submit({}, `form[action="/intranet/staff/${clerk}/disable"]`);
    assert.match(disabled.$('main .notice').text(), new RegExp(`${clerk} is disabled`));

    await browser.get('/intranet/staff/new');
    const bad = await browser.submit({ username: 'x', role: 'clerk', password: 'short', passwordConfirm: 'short' }, 'form.staff-new-form');
    assert.match(bad.$('h1').text(), /New staff account/);
    assert.match(bad.$('#username-error').text(), /3 to 32 lower-case letters/);
    assert.match(bad.$('#password-error').text(), /12 to 128 characters/);

    const terminals = await browser.get('/intranet/terminals');
    assert.equal(terminals.$('h1').text(), 'Counter card-reader terminals');
    assert.match(terminals.$('#enrol-help').text(), /On the counter PC, run npm run agent -- enroll/);
    const refused = await browser.submit({ terminalId: 'nope', publicKey: '', label: '' }, 'form.terminal-enrol-form');
    assert.match(refused.$('#terminalId-error').text(), /T- and 8 lower-case hex characters/);
    assert.match(refused.$('.error-summary').text(), /Enter a label/);
    const { terminalId, publicKey } = newTerminal();
    const done = await browser.submit({ terminalId, publicKey, label: 'Counter 4' }, 'form.terminal-enrol-form');
    assert.match(done.$('main .notice').text(), new RegExp(`Terminal ${terminalId} \\(Counter 4\\) enrolled`));
    assert.equal(done.$(`#terminal-${terminalId} button`).text().trim(), `Revoke ${terminalId}`);
  });
});
