import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';

// Pages the foundation serves; each must render with JS off, switch language, and (with partials) answer HTMX.
const PAGES = ['/', '/announcements', '/environment', '/register', '/resend-confirmation', '/forgot-password', '/delete-registration', '/environment', '/manual', '/no-such-page'];

describe('platform', () => {
  const t = useTestApp();

  test('every page renders as a whole page without JS, and HTMX gets the fragment only where there is one', async () => {
    for (const path of PAGES) {
      const page = await new BrowserAgent(t.app).get(path);
      assert.ok(page.html.startsWith('<!DOCTYPE html>'), `${path} is a whole page`);
      assert.equal(page.$('script[src="/public/js/htmx.min.js"]').length, 1, `${path} loads the pinned htmx`);
      assert.match(page.headers['vary'] ?? '', /HX-Request/, `${path} varies on HX-Request`);
    }
    const fragment = await request(t.app).get('/announcements').set('HX-Request', 'true');
    assert.equal(fragment.status, 200);
    assert.ok(fragment.text.trim().startsWith('<section id="announcements"'), 'HTMX gets only the announcements partial');
    const restore = await request(t.app).get('/announcements').set('HX-Request', 'true').set('HX-History-Restore-Request', 'true');
    assert.ok(restore.text.startsWith('<!DOCTYPE html>'), 'a history restore gets the whole page');
  });

  test('the pinned htmx 1.9 is served from public/', async () => {
    const res = await request(t.app).get('/public/js/htmx.min.js');
    assert.equal(res.status, 200);
    assert.match(res.text, /version:"1\.9\.\d+"/);
  });

  test('the language switch works on every page and is remembered in a cookie', async () => {
    for (const path of PAGES) {
      const browser = new BrowserAgent(t.app);
      const zh = await browser.get(path);
      assert.equal(zh.$('html').attr('lang'), 'zh-TW');
      const href = zh.$('.lang-switch a').attr('href');
      assert.ok(href, `${path} has a language link`);
      const en = await browser.get(href!);
      assert.equal(en.$('html').attr('lang'), 'en', `${path} switches to English`);
      assert.match(en.$('.brand').text(), /NHI Card Online Services Registration/);
      const again = await browser.get(path);
      assert.equal(again.$('html').attr('lang'), 'en', `${path} remembers English`);
      const back = await browser.get(again.$('.lang-switch a').attr('href')!);
      assert.equal(back.$('html').attr('lang'), 'zh-TW');
    }
  });

  test('a POST without the CSRF token is refused with 403; with it the form works', async () => {
    const browser = new BrowserAgent(t.app);
    await browser.get('/');
    const refused = await browser.post('/login', { password: 'whatever1' });
    assert.equal(refused.status, 403);
    assert.match(refused.$('h1').text(), /網頁已逾時/);
    const wrongToken = await browser.post('/login', { password: 'whatever1', _csrf: 'forged' });
    assert.equal(wrongToken.status, 403);
    await browser.get('/');
    const accepted = await browser.submit({ password: 'whatever1' }, 'form.login-form');
    assert.equal(accepted.status, 400, 'past CSRF: the form itself answers (no card read yet)');
    // HTMX sends the token in a header instead of the body.
    const token = browser.page!.$('input[name=_csrf]').val() as string;
    const viaHeader = await browser.agent.post('/login').set('HX-Request', 'true').set('X-CSRF-Token', token).type('form').send({ password: 'x' });
    assert.equal(viaHeader.status, 400, 'past CSRF: the form itself answers');
  });

  test('a malformed language cookie falls back to Chinese instead of failing the page', async () => {
    const res = await request(t.app).get('/').set('Cookie', 'lang=%E0%A4%A; other=1');
    assert.equal(res.status, 200);
    assert.match(res.text, /<html lang="zh-TW">/);
    const en = await request(t.app).get('/').set('Cookie', 'x=%ZZ; lang=en');
    assert.match(en.text, /<html lang="en">/);
  });

  test('an anonymous visit gets no session; its binding and CSRF cookies are HttpOnly and SameSite=Lax', async () => {
    const home = await request(t.app).get('/');
    const cookies = home.headers['set-cookie'] as unknown as string[];
    assert.equal(cookies.find((c) => c.startsWith('nhi.sid=')), undefined, 'no session before a card read is claimed');
    for (const name of ['nhi.bind=', 'nhi.csrf=']) {
      const cookie = cookies.find((c) => c.startsWith(name));
      assert.ok(cookie, name);
      assert.match(cookie!, /HttpOnly/);
      assert.match(cookie!, /SameSite=Lax/);
    }
    assert.equal(home.headers['cache-control'], 'no-store', 'a page carrying tokens is not cached');
  });

  test('404 and 500 pages leak nothing', async () => {
    const missing = await new BrowserAgent(t.app).get('/nope/../../etc/passwd');
    assert.equal(missing.status, 404);
    assert.match(missing.$('h1').text(), /找不到網頁/);
    // A request the app cannot handle (malformed JSON) must not echo internals.
    const bad = await request(t.app).post('/login').set('Content-Type', 'application/json').send('{"broken');
    assert.ok(bad.status >= 400);
    assert.doesNotMatch(bad.text, /SyntaxError|at .*\.ts|node_modules/);
  });

  test('stored text is escaped: an announcement cannot inject markup or hx- attributes', async () => {
    const em = t.services.orm.em.fork();
    await em.getConnection().execute(
      `insert into announcement (title_zh, marquee, publish_from, created_at) values (?, true, ?, ?)`,
      ['<div hx-get="/evil">注意</div>', new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z')],
    );
    t.clock.advance(30_001); // past the announcements cache
    const res = await request(t.app).get('/');
    assert.doesNotMatch(res.text, /<div hx-get="\/evil">/);
    assert.match(res.text, /&lt;div hx-get=&quot;\/evil&quot;&gt;注意/);
    const link = await request(t.app).get('/announcements?x="><div hx-get="/evil">');
    assert.doesNotMatch(link.text, /<div hx-get="\/evil">/, 'a query string is not reflected raw');
  });

  test('announcements are read at most every 30 s; a new one shows once that has passed', async () => {
    const em = t.services.orm.em.fork();
    const before = await request(t.app).get('/announcements');
    await em.getConnection().execute(
      `insert into announcement (title_zh, title_en, marquee, publish_from, created_at) values (?, ?, false, ?, ?)`,
      ['系統維護公告', 'Maintenance notice', new Date('2026-01-02T00:00:00Z'), new Date('2026-01-02T00:00:00Z')],
    );
    assert.doesNotMatch((await request(t.app).get('/announcements')).text, /系統維護公告/, 'still the cached list');
    assert.equal(before.status, 200);
    t.clock.advance(30_001);
    assert.match((await request(t.app).get('/announcements')).text, /系統維護公告/);
    assert.match((await request(t.app).get('/announcements?lang=en')).text, /Maintenance notice/);
  });
});

describe('service hours', () => {
  const t = useTestApp({ env: { SERVICE_HOURS: '06:00-24:00' } });

  test('outside service hours citizen pages show the hours and refuse; the home page says so', async () => {
    t.clock.set('2026-03-02T20:30:00Z'); // 04:30 in Taipei
    const closed = await new BrowserAgent(t.app).get('/register');
    assert.equal(closed.status, 503);
    assert.match(closed.$('main').text(), /本系統服務時間每日 06:00-24:00/);
    const home = await new BrowserAgent(t.app).get('/');
    assert.equal(home.status, 200);
    assert.match(home.$('main').text(), /現在非服務時間/);
    assert.equal(home.$('form.login-form').length, 0);
    const browser = new BrowserAgent(t.app);
    t.clock.set('2026-03-02T04:00:00Z');
    await browser.get('/');
    t.clock.set('2026-03-02T20:30:00Z');
    assert.equal((await browser.submit({ password: 'abcdef1' }, 'form.login-form')).status, 503, 'a form posted after closing is refused');
    assert.equal((await request(t.app).get('/healthz')).status, 200, 'health checks are not citizen pages');
    assert.equal((await request(t.app).get('/dev/mailbox')).status, 200, 'routes open at all hours stay open');
    assert.equal((await request(t.app).get('/announcements')).status, 200);

    t.clock.set('2026-03-02T22:00:00Z'); // 06:00 in Taipei: open
    const open = await new BrowserAgent(t.app).get('/register');
    assert.equal(open.status, 200);
  });
});

describe('behind a TLS-terminating proxy', () => {
  const t = useTestApp({ env: { PUBLIC_ORIGIN: 'https://register.example.tw', TRUST_PROXY: '1' } });

  test('cookies are Secure with the __Host- prefix and HSTS is sent when the proxy says HTTPS', async () => {
    const res = await request(t.app).get('/').set('X-Forwarded-Proto', 'https').set('X-Forwarded-For', '203.0.113.7');
    const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
    for (const name of ['__Host-nhi.bind=', '__Host-nhi.csrf=']) {
      const cookie = cookies.find((c) => c.startsWith(name));
      assert.ok(cookie, name);
      assert.match(cookie!, /Secure/);
      assert.match(cookie!, /Path=\//);
      assert.doesNotMatch(cookie!, /Domain=/i);
    }
    assert.match(res.headers['strict-transport-security'] ?? '', /max-age=31536000/);
  });
});

describe('a proxy that is not trusted', () => {
  const t = useTestApp({ env: { PUBLIC_ORIGIN: 'https://register.example.tw', TRUST_PROXY: 'false' } });

  test('its X-Forwarded-Proto is ignored: no Secure session cookie goes over plain HTTP', async () => {
    const res = await request(t.app).get('/').set('X-Forwarded-Proto', 'https');
    const cookie = (res.headers['set-cookie'] as unknown as string[] | undefined)?.find((c) => c.startsWith('nhi.sid='));
    assert.equal(cookie, undefined);
  });
});
