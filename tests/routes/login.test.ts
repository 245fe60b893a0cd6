import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import { auditRows, logIn, PASSWORD, readCardHere, registerActive, startLoginSite, type LoginSite } from '../helpers/logins.js';
import { insertTestCard } from '../helpers/card-reads.js';

// 登入 with the card and the registration password (SPEC.md "Login"; QUALITY.md sessions and lockout).
describe('login', () => {
  let site: LoginSite;
  before(async () => {
    site = await startLoginSite();
  });
  after(async () => site?.close());
  beforeEach(() => site.t.clock.set(new Date()));

  const WRONG = '註冊密碼錯誤，請重新輸入';
  const summary = (page: Page) => page.$('.error-summary').text();
  const lockRow = async (idNumber: string) =>
    (await site.t.services.orm.em.fork().getConnection().execute(`select consecutive_failures, locked_at from login_lockout where id_number = ?`, [idNumber]))[0] as
      | { consecutive_failures: number; locked_at: Date | null }
      | undefined;

  test('the right card and password: a new session id, 303 to the service menu; the login card read is used up', async () => {
    const { card } = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    await browser.get('/');
    await readCardHere(site, browser, card, 'login');
    const before = browser.cookies()['nhi.sid'];
    assert.ok(before, 'the card read made a session');
    const res = await browser.agent.post('/login').type('form').send({ _csrf: browser.page!.$('form.login-form input[name=_csrf]').val(), password: PASSWORD });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/account');
    assert.notEqual(browser.cookies()['nhi.sid'], before, 'a new session id at login');
    const menu = await browser.get('/account');
    assert.equal(menu.status, 200);
    assert.match(menu.$('h1').text(), /服務項目/);
    assert.match(menu.$('.signed-in-as').text(), new RegExp(`${card.sim.idNumber.slice(0, 6)}\\*{4}`));
    const home = await browser.get('/');
    assert.equal(home.$('#card-panel-login .card-holder-name').text(), '', 'the login read is cleared');
    const audit = await auditRows(site);
    assert.ok(audit.some((a) => a.action === 'login' && a.outcome === 'success' && a.subject === `${card.sim.idNumber.slice(0, 6)}****`));
  });

  test('a wrong password: its message beside the field and in the summary, 400, not logged in', async () => {
    const { card } = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    const page = await logIn(site, browser, card, 'Wrong#123');
    assert.equal(page.status, 400);
    assert.match(page.$('#password-error').text(), new RegExp(WRONG));
    assert.match(summary(page), new RegExp(WRONG));
    assert.equal(page.$('#password').attr('value'), undefined);
    assert.equal((await browser.get('/account')).url, '/?login=required');
  });

  test('5 wrong passwords lock: the right one then gets the very same answer; tries while locked do not count; a success resets the count', async () => {
    const { card } = await registerActive(site);
    const id = card.sim.idNumber;
    const browser = new BrowserAgent(site.t.app);
    // A success resets the count: 4 wrong, 1 right, 4 wrong again is still not locked.
    for (let i = 0; i < 4; i++) await logIn(site, browser, card, `Wrong#${i}00`);
    assert.equal((await lockRow(id))?.consecutive_failures, 4);
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), card, PASSWORD)).url, '/account');
    assert.equal(await lockRow(id), undefined, 'the count starts again after a success');
    for (let i = 0; i < 4; i++) await logIn(site, browser, card, `Wrong#${i}11`);
    assert.equal((await lockRow(id))?.locked_at, null);
    const wrong = await logIn(site, browser, card, 'Wrong#555');
    assert.equal(wrong.status, 400);
    assert.ok((await lockRow(id))?.locked_at, 'the fifth wrong password in a row locks');

    const right = await logIn(site, new BrowserAgent(site.t.app), card, PASSWORD);
    assert.equal(right.status, wrong.status, 'the same status');
    assert.equal(right.$('.error-summary').html(), wrong.$('.error-summary').html(), 'the same message');
    assert.equal(right.$('#password-error').text(), wrong.$('#password-error').text());
    assert.equal(right.url, '/login');

    await logIn(site, browser, card, 'Wrong#666');
    await logIn(site, browser, card, 'Wrong#777');
    assert.equal((await lockRow(id))?.consecutive_failures, 5, 'tries while locked do not count');

    const audit = (await auditRows(site)).filter((a) => a.subject === `${id.slice(0, 6)}****`);
    assert.equal(audit.filter((a) => a.action === 'login.lockout').length, 1, 'one lockout row: the try that locked');
    assert.equal(audit.filter((a) => a.action === 'login' && (a.detail as { reason?: string })?.reason === 'locked').length, 3);
    const state = await site.t.services.api.credentials.lockState(id);
    assert.equal(state.locked, true);
    assert.equal(state.consecutiveFailures, 5);
  });

  test('wrong passwords at the same moment all count, and exactly one of them locks', async () => {
    const { card } = await registerActive(site);
    const browsers: BrowserAgent[] = [];
    for (let i = 0; i < 7; i++) {
      const b = new BrowserAgent(site.t.app);
      await b.get('/');
      await readCardHere(site, b, card, 'login');
      browsers.push(b);
    }
    const pages = await Promise.all(browsers.map((b) => b.submit({ password: 'Wrong#aaa' }, 'form.login-form')));
    assert.ok(pages.every((p) => p.status === 400));
    assert.equal((await lockRow(card.sim.idNumber))?.consecutive_failures, 5);
    const lockouts = (await auditRows(site)).filter((a) => a.action === 'login.lockout' && a.subject === `${card.sim.idNumber.slice(0, 6)}****`);
    assert.equal(lockouts.length, 1);
  });

  test('an unregistered card, a pending, a suspended and a deleted registration each get their own message', async () => {
    const stranger = await insertTestCard(site.t.services);
    const none = await logIn(site, new BrowserAgent(site.t.app), stranger, PASSWORD);
    assert.equal(none.status, 400);
    assert.match(summary(none), /此健保卡尚未註冊，請先申請/);

    const pending = await registerActive(site, { state: 'pending' });
    const pendingPage = await logIn(site, new BrowserAgent(site.t.app), pending.card, PASSWORD);
    assert.match(summary(pendingPage), /尚未完成電子郵件信箱認證/);
    assert.equal(pendingPage.$('a[href="/resend-confirmation"]').filter((_i, a) => pendingPage.$(a).closest('.notice').length > 0).length, 1, 'a link to 重寄認證信');

    const suspended = await registerActive(site, { state: 'suspended' });
    assert.match(summary(await logIn(site, new BrowserAgent(site.t.app), suspended.card, PASSWORD)), /註冊已停用，請持身分證明文件臨櫃辦理/);

    const deleted = await registerActive(site, { state: 'deleted' });
    assert.match(summary(await logIn(site, new BrowserAgent(site.t.app), deleted.card, PASSWORD)), /已刪除註冊，如需使用請重新申請/);

    const reasons = (await auditRows(site)).filter((a) => a.action === 'login' && a.outcome === 'refused').map((a) => (a.detail as { reason: string }).reason);
    for (const reason of ['none', 'pending', 'suspended', 'deleted']) assert.ok(reasons.includes(reason), reason);
  });

  test('logout ends the session on the server: the old cookie no longer reaches /account', async () => {
    const { card } = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    const menu = await logIn(site, browser, card, PASSWORD);
    assert.equal(menu.url, '/account');
    const cookie = `nhi.sid=${browser.cookies()['nhi.sid']}; nhi.bind=${browser.cookies()['nhi.bind']}`;
    const out = await browser.submit({}, 'form.logout-form');
    assert.equal(out.url, '/?login=logged-out');
    assert.match(out.$('.login-box .notice').text(), /您已登出/);
    const replay = await browser.agent.get('/account').set('Cookie', cookie);
    assert.equal(replay.status, 303);
    assert.equal(replay.headers.location, '/?login=required');
    const sessions = await site.t.services.orm.em.fork().getConnection().execute(`select sess from session`);
    assert.ok(!JSON.stringify(sessions).includes(card.sim.idNumber), 'no session holds the person any more');
    assert.ok((await auditRows(site)).some((a) => a.action === 'logout' && a.subject === `${card.sim.idNumber.slice(0, 6)}****`));
  });

  test('a logged-in page without a login: 303 to the home page, which says to log in', async () => {
    const browser = new BrowserAgent(site.t.app);
    const res = await browser.agent.get('/account/profile');
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/?login=required');
    const home = await browser.get('/account/password');
    assert.match(home.$('.login-box .notice').text(), /請先插入健保卡並輸入註冊密碼登入/);
    assert.equal(browser.cookies()['nhi.sid'], undefined, 'an anonymous view makes no session');
  });
});
