import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const IE11 = 'Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko';
const IE7_COMPAT = 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0)';

describe('home page', () => {
  const t = useTestApp();

  test('shows the login box, links, service hours and the detected environment', async () => {
    const page = await new BrowserAgent(t.app, { 'User-Agent': CHROME }).get('/');
    assert.equal(page.status, 200);
    const text = page.$('main').text();
    for (const words of ['健保卡網路服務註冊', '請插入健保卡後，輸入註冊密碼再按【登入】鈕', '如需申請健保卡註冊停用，請持身分證明文件臨櫃辦理',
      '首次登入請先申請', '重寄認證信', '忘記註冊密碼', '刪除註冊申請', '系統設定須知', '行動裝置認證', '行動裝置管理作業', '基本資料異動',
      '註冊密碼變更', '本系統服務時間每日 06:00-24:00', '最新公告']) {
      assert.ok(text.includes(words), `home page should say ${words}`);
    }
    assert.match(page.$('.env-browser').text(), /Chrome 120/);
    assert.match(page.$('.env-os').text(), /Windows/);
    assert.equal(page.$('.env-supported').text().trim(), '✓ 支援');
    assert.equal(page.headers['vary']?.includes('HX-Request'), true);
    assert.ok(page.headers['content-security-policy']?.includes("script-src 'self'"));
  });

  test('IE11 is supported, IE compatibility view is not', async () => {
    const ie11 = await new BrowserAgent(t.app, { 'User-Agent': IE11 }).get('/');
    assert.equal(ie11.$('.env-supported').text().trim(), '✓ 支援');
    const compat = await new BrowserAgent(t.app, { 'User-Agent': IE7_COMPAT }).get('/');
    assert.equal(compat.$('.env-supported').text().trim(), '✗ 不支援');
  });

  test('the login form: each bad input gets its message beside the field and in the summary; the password is never echoed', async () => {
    const browser = new BrowserAgent(t.app);
    await browser.get('/');
    const page = await browser.submit({ password: 'ab<' }, 'form.login-form');
    assert.equal(page.status, 400);
    assert.match(page.$('title').text(), /^錯誤：/);
    const summary = page.$('.error-summary a').toArray().map((a) => [page.$(a).attr('href'), page.$(a).text()]);
    assert.deepEqual(summary, [
      ['#card-panel-login', '請插入健保卡後，按『讀取』驗證健保卡'],
      ['#password', '註冊密碼長度必須6-12碼'],
    ]);
    assert.match(page.$('#password-error').text(), /註冊密碼長度必須6-12碼/);
    assert.equal(page.$('#password').attr('aria-invalid'), 'true');
    assert.equal(page.$('#password').attr('value'), undefined, 'the password is not sent back');
    assert.doesNotMatch(page.html, /ab&lt;/);

    await browser.get('/');
    const empty = await browser.submit({ password: '' }, 'form.login-form');
    assert.match(empty.$('#password-error').text(), /請輸入註冊密碼/);
    const spaces = await (async () => { await browser.get('/'); return browser.submit({ password: 'abc def1' }, 'form.login-form'); })();
    assert.match(spaces.$('#password-error').text(), /不可包含空白/);
    await browser.get('/?lang=en');
    const english = await browser.submit({ password: '1' }, 'form.login-form');
    assert.match(english.$('title').text(), /^Error: /);
    assert.match(english.$('#password-error').text(), /must be 6-12 characters/);
  });

  test('healthz and readyz answer', async () => {
    assert.deepEqual((await request(t.app).get('/healthz')).body, { status: 'ok' });
    const ready = await request(t.app).get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
  });
});
