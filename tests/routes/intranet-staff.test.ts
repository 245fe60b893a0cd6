import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { createStaff, STAFF_PASSWORD, staffBrowser, staffLogIn } from '../helpers/staff.js';

// The counter intranet's door: staff accounts, their login and sessions, and the network it answers.
describe('counter intranet: staff login', () => {
  const t = useTestApp({ rateLimits: { login: { points: 1000, durationSeconds: 60 } } });

  test('a staff member logs in with username and password and sees the menu of their role', async () => {
    const { browser, username } = await staffBrowser(t, 'clerk');
    const menu = await browser.get('/intranet');
    assert.equal(menu.status, 200);
    assert.match(menu.$('.intranet-user').text(), new RegExp(`${username} \\(櫃台人員\\)`));
    assert.equal(menu.$('.service-menu a[href="/intranet/register"]').length, 1);
    assert.equal(menu.$('.service-menu a[href="/intranet/staff"]').length, 0, 'a clerk is not offered staff management');
    assert.equal(menu.headers['cache-control'], 'no-store');
  });

  test('a wrong password, an unknown and a disabled account all get the same answer', async () => {
    const username = await createStaff(t, 'clerk');
    const disabled = await createStaff(t, 'clerk');
    await t.services.api.intranet.staff.change(disabled, 'disable', 'admin-test', { clientAddress: '127.0.0.1' });
    const answers: string[] = [];
    for (const [user, password] of [[username, 'Wrong-password-1'], ['nobody-here', STAFF_PASSWORD], [disabled, STAFF_PASSWORD]] as const) {
      const browser = new BrowserAgent(t.app);
      await browser.get('/intranet/login');
      const page = await browser.submit({ username: user, password }, 'form.staff-login-form');
      assert.equal(page.status, 400);
      assert.equal(page.$('#username').val(), user, 'the username typed is kept');
      assert.equal(page.$('#password').attr('value'), undefined);
      answers.push(page.$('#password-error').text());
    }
    assert.match(answers[0]!, /帳號或密碼錯誤/);
    assert.deepEqual(new Set(answers).size, 1);
  });

  test('the right password is refused after five wrong ones, until an admin unlocks the account', async () => {
    const username = await createStaff(t, 'supervisor');
    for (let i = 0; i < 5; i++) {
      const browser = new BrowserAgent(t.app);
      await browser.get('/intranet/login');
      assert.equal((await browser.submit({ username, password: `Wrong-password-${i}` }, 'form.staff-login-form')).status, 400);
    }
    const locked = new BrowserAgent(t.app);
    await locked.get('/intranet/login');
    const refused = await locked.submit({ username, password: STAFF_PASSWORD }, 'form.staff-login-form');
    assert.equal(refused.status, 400);
    assert.match(refused.$('#password-error').text(), /帳號或密碼錯誤/);
    assert.ok((await t.services.api.intranet.staff.find(username))!.locked);
    await t.services.api.intranet.staff.change(username, 'unlock', 'admin-test', { clientAddress: '127.0.0.1' });
    await staffLogIn(t, username);
  });

  test('a staff session ends after 15 idle minutes (the clock moved), not before', async () => {
    const { browser } = await staffBrowser(t, 'clerk');
    t.clock.advance(14 * 60 * 1000);
    assert.equal((await browser.get('/intranet')).url, '/intranet', 'still logged in after 14 minutes');
    t.clock.advance(15 * 60 * 1000 + 1000);
    const page = await browser.get('/intranet');
    assert.equal(page.url, '/intranet/login?login=required');
  });

  test('the staff session has its own cookie: a citizen session does not open the intranet', async () => {
    const { browser } = await staffBrowser(t, 'clerk');
    const cookies = browser.cookies();
    assert.ok(cookies['nhi.staff'], 'the staff cookie');
    assert.equal(cookies['nhi.sid'], undefined, 'no citizen session was made');
    // The staff session id presented as the citizen cookie names no citizen session, and the reverse.
    const crossed = new BrowserAgent(t.app);
    const other = await crossed.agent.get('/intranet').set('Cookie', `nhi.sid=${cookies['nhi.staff']}`);
    assert.equal(other.status, 303);
    assert.equal(other.headers.location, '/intranet/login?login=required');
  });

  test('logout ends the session on the server', async () => {
    const { browser } = await staffBrowser(t, 'clerk');
    const sid = browser.cookies()['nhi.staff']!;
    await browser.get('/intranet');
    const out = await browser.submit({}, 'form[action="/intranet/logout"]');
    assert.equal(out.url, '/intranet/login?login=logged-out');
    assert.match(out.$('main .notice').text(), /您已登出/);
    const replay = await new BrowserAgent(t.app).agent.get('/intranet').set('Cookie', `nhi.staff=${sid}`);
    assert.equal(replay.headers.location, '/intranet/login?login=required');
  });

  test('a staff member changes their own password; other sessions of the account end', async () => {
    const username = await createStaff(t, 'clerk');
    const other = await staffLogIn(t, username);
    const browser = await staffLogIn(t, username);
    await browser.get('/intranet/password');
    const short = await browser.submit({ current: STAFF_PASSWORD, password: 'short', passwordConfirm: 'short' }, 'form[action="/intranet/password"]');
    assert.equal(short.status, 400);
    assert.match(short.$('#password-error').text(), /12 至 128/);
    assert.match(short.$('.error-summary').text(), /12 至 128/);
    const wrong = await browser.submit({ current: 'not-the-password', password: 'A-new-password-77', passwordConfirm: 'A-new-password-77' }, 'form[action="/intranet/password"]');
    assert.match(wrong.$('#current-error').text(), /目前密碼不正確/);
    const done = await browser.submit({ current: STAFF_PASSWORD, password: 'A-new-password-77', passwordConfirm: 'A-new-password-77' }, 'form[action="/intranet/password"]');
    assert.equal(done.url, '/intranet');
    assert.match(done.$('main .notice').text(), /密碼已變更/);
    assert.equal((await other.get('/intranet')).url, '/intranet/login?login=ended', 'the other session ended');
    await staffLogIn(t, username, 'A-new-password-77');
  });

  test('in English', async () => {
    const browser = new BrowserAgent(t.app);
    const page = await browser.get('/intranet/login?lang=en');
    assert.match(page.$('h1').text(), /Counter intranet login/);
    const refused = await browser.submit({ username: '', password: '' }, 'form.staff-login-form');
    assert.match(refused.$('.error-summary').text(), /Enter your username/);
  });

  test('npm run staff:create makes an account that logs in; a bad role is refused', () => {
    const root = join(import.meta.dirname, '..', '..');
    const env = { ...process.env, DATABASE_URL: t.databaseUrl, DATA_DIR: t.dataDir, STAFF_PASSWORD: 'Created-on-cli-1', NODE_ENV: 'test' };
    const made = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/staff-create.ts', '--username', 'cli.admin', '--role', 'admin'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, /created cli\.admin \(admin\)/);
    const again = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/staff-create.ts', '--username', 'cli.admin', '--role', 'admin'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /taken/);
    const badRole = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/staff-create.ts', '--username', 'x.y', '--role', 'boss'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(badRole.status, 2);
    return staffLogIn(t, 'cli.admin', 'Created-on-cli-1').then(() => undefined);
  });
});

describe('counter intranet: the network gate', () => {
  const t = useTestApp({ env: { INTRANET_ALLOW: '10.20.0.0/16' } });

  test('from outside INTRANET_ALLOW every intranet path is refused (403) before any page or session', async () => {
    for (const path of ['/intranet', '/intranet/login', '/intranet/persons', '/intranet/no-such-page']) {
      const res = await new BrowserAgent(t.app).agent.get(path).set('X-Forwarded-For', '203.0.113.7');
      assert.equal(res.status, 403, path);
      assert.match(res.text, /臨櫃作業僅限本署內部網路使用/);
      assert.equal(res.headers['set-cookie'], undefined, `${path}: no cookie, no session`);
    }
    const post = await new BrowserAgent(t.app).agent.post('/intranet/login').set('X-Forwarded-For', '203.0.113.7').type('form').send({ username: 'a', password: 'b' });
    assert.equal(post.status, 403);
  });

  test('from inside it the login page answers', async () => {
    const res = await new BrowserAgent(t.app).agent.get('/intranet/login').set('X-Forwarded-For', '10.20.3.4');
    assert.equal(res.status, 200);
  });
});
