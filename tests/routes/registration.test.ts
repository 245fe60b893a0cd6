import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard, SERVER_ORIGIN, type TestCard } from '../helpers/card-reads.js';
import { applyOnline, linkIn, mailTo, readCardHere, startApplication, TEST_HOUSEHOLD } from '../helpers/flows.js';
import { logIn } from '../helpers/logins.js';
import { startAppWithAgent, type AppWithAgent } from '../helpers/site.js';
import { TestSmtpServer } from '../helpers/smtp.js';

// 首次登入請先申請 end to end: the real app and agent, a browser without JavaScript, a real SMTP server.
describe('registration', () => {
  const smtp = new TestSmtpServer();
  const logLines: string[] = [];
  let site: AppWithAgent;
  before(async () => {
    await smtp.start();
    // Many steps from one address: the per-address limits are shown by their own tests.
    site = await startAppWithAgent(SERVER_ORIGIN, { env: { SMTP_URL: smtp.url, LOG_LEVEL: 'info' }, log: (line) => logLines.push(line), rateLimits: { accountSteps: { points: 10_000, durationSeconds: 60 } } });
  });
  after(async () => {
    await site?.close();
    await smtp.stop();
  });
  beforeEach(() => site.t.clock.set(new Date()));

  const sql = async <T>(query: string, params: unknown[] = []): Promise<T[]> => (await site.t.services.orm.em.fork().getConnection().execute(query, params)) as T[];
  const stateOf = async (card: TestCard) => (await sql<{ state: string }>('select state from registration where id_number = ?', [card.sim.idNumber]))[0]?.state;
  const errorsOn = (browser: BrowserAgent) => browser.page!.$('.error-summary li').map((_i, el) => browser.page!.$(el).text()).get();
  const beside = (browser: BrowserAgent, field: string) => browser.page!.$(`#${field}-error`).text();

  async function confirmByMail(browser: BrowserAgent, card: TestCard, email: string) {
    const mail = await mailTo(site, smtp, email, /認證通知信/);
    const link = linkIn(mail.text, SERVER_ORIGIN);
    const page = await browser.get(link);
    assert.equal(page.url, '/register/confirm', 'the token leaves the address bar');
    await readCardHere(site, browser, card, 'confirm');
    return browser.submit({}, 'form[action="/register/confirm"]');
  }

  test('without JavaScript: terms, card, household, password and contacts, the mail link, the same card again: active', async () => {
    const card = await insertTestCard(site.t.services, { name: '林怡君', sex: 'F' });
    const browser = new BrowserAgent(site.t.app);
    const terms = await browser.get('/register');
    assert.match(terms.$('#article-15').text(), /十五、/);
    const applied = await applyOnline(site, browser, card, { email: 'yijun@example.com.tw' });
    assert.equal(applied.url, '/register/applied');
    assert.match(applied.$('main').text(), /您已完成申請並將在數分鐘後收到 E-Mail 確認信，請開啟確認信中的連結啟用帳號，謝謝!/);
    assert.equal(await stateOf(card), 'pending');
    const confirmed = await confirmByMail(browser, card, 'yijun@example.com.tw');
    assert.match(confirmed.$('main').text(), /您已完成電子郵件信箱認證，歡迎開始使用本系統!/);
    assert.equal(await stateOf(card), 'active');
    const complete = await mailTo(site, smtp, 'yijun@example.com.tw', /註冊完成通知/);
    assert.match(complete.text, /健保/);
    const account = await logIn(site, new BrowserAgent(site.t.app), card, 'Taipei#2026');
    assert.equal(account.url, '/account');
  });

  test('in English, with the address picked through the HTMX fragments, the mails are in English', async () => {
    const card = await insertTestCard(site.t.services);
    const browser = new BrowserAgent(site.t.app);
    const terms = await browser.get('/register?lang=en');
    assert.match(terms.$('form[action="/register/terms"] button[type=submit]').text(), /I have read and understood the rules/);
    await startApplication(site, browser, card, '/register?lang=en');
    const htmx = { 'HX-Request': 'true' };
    const townships = await browser.agent.get(`/address-fields?county=${TEST_HOUSEHOLD.county}`).set(htmx);
    assert.match(townships.text, new RegExp(`value="${TEST_HOUSEHOLD.township}"`));
    const villages = await browser.agent.get(`/address-fields?county=${TEST_HOUSEHOLD.county}&township=${TEST_HOUSEHOLD.township}`).set(htmx);
    assert.match(villages.text, /Zhuangjing Vil\./);
    const next = await browser.submit(TEST_HOUSEHOLD, 'form[action="/register/identity"]');
    assert.equal(next.url, '/register/credentials');
    await browser.submit({ password: 'Formosa!2026', passwordConfirm: 'Formosa!2026', mobile: '0922333444', email: 'en@example.com' }, 'form[action="/register/credentials"]');
    assert.match(browser.page!.$('main').text(), /You have completed the application/);
    const mail = await mailTo(site, smtp, 'en@example.com', /Confirm your e-mail/);
    assert.match(mail.text, /valid/i);
    const confirmed = await confirmByMail(browser, card, 'en@example.com');
    assert.match(confirmed.$('main').text(), /You have completed the e-mail verification/);
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), card, 'Formosa!2026')).url, '/account');
  });

  test('before the link is used the registration cannot log in: the pending message points to resend', async () => {
    const card = await insertTestCard(site.t.services);
    await applyOnline(site, new BrowserAgent(site.t.app), card, { email: 'waiting@example.com' });
    const refused = await logIn(site, new BrowserAgent(site.t.app), card, 'Taipei#2026');
    assert.notEqual(refused.url, '/account');
    assert.equal(refused.$('a[href="/resend-confirmation"]').length > 0, true);
  });

  test('no step can be skipped: each page sends the person back to the first step not yet done', async () => {
    const browser = new BrowserAgent(site.t.app);
    const credentials = await browser.agent.get('/register/credentials');
    assert.equal(credentials.status, 303);
    assert.equal(credentials.headers.location, '/register');
    await browser.get('/register');
    await browser.submit({}, 'form[action="/register/terms"]');
    const skipped = await browser.agent.get('/register/credentials');
    assert.equal(skipped.headers.location, '/register/identity');
    const confirm = await browser.get('/register/confirm');
    assert.match(confirm.$('main').text(), /此認證連結無效/);
  });

  test('going back keeps what was typed, never the passwords', async () => {
    const card = await insertTestCard(site.t.services);
    const browser = new BrowserAgent(site.t.app);
    await startApplication(site, browser, card);
    await browser.submit(TEST_HOUSEHOLD, 'form[action="/register/identity"]');
    const back = await browser.submit({ password: 'Secret#123', passwordConfirm: 'Secret#123', mobile: '0911222333', email: 'back@example.com', back: '1' }, 'form[action="/register/credentials"]');
    assert.equal(back.url, '/register/identity');
    assert.equal(back.$('#householdNumber').val(), TEST_HOUSEHOLD.householdNumber);
    assert.equal(back.$('#village option[selected]').val(), TEST_HOUSEHOLD.village);
    const again = await browser.submit({}, 'form[action="/register/identity"]');
    assert.equal(again.url, '/register/credentials');
    assert.equal(again.$('#mobile').val(), '0911222333');
    assert.equal(again.$('#email').val(), 'back@example.com');
    assert.equal(again.$('#password').val(), undefined);
    assert.doesNotMatch(again.html, /Secret#123/);
  });

  test('wrong 戶號 or address: the message beside the field and in the summary, values kept, nothing saved', async () => {
    const card = await insertTestCard(site.t.services);
    const browser = new BrowserAgent(site.t.app);
    await startApplication(site, browser, card);
    const wrong = await browser.submit({ ...TEST_HOUSEHOLD, householdNumber: 'F7654321' }, 'form[action="/register/identity"]');
    assert.equal(wrong.status, 400);
    assert.match(beside(browser, 'householdNumber'), /戶號或戶籍鄉鎮里鄰與戶政資料不符/);
    assert.deepEqual(errorsOn(browser), ['戶號或戶籍鄉鎮里鄰與戶政資料不符，請確認後重新輸入']);
    assert.equal(wrong.$('#householdNumber').val(), 'F7654321');
    const malformed = await browser.submit({ ...TEST_HOUSEHOLD, householdNumber: 'F12', neighborhood: '0' }, 'form[action="/register/identity"]');
    assert.match(beside(browser, 'householdNumber'), /8 碼/);
    assert.match(beside(browser, 'neighborhood'), /./);
    assert.equal(malformed.$('#neighborhood').val(), '0');
    // 更新選項 without JS: the lists refresh, nothing is checked.
    const refreshed = await browser.submit({ county: '10002', township: '', village: '', refresh: 'address' }, 'form[action="/register/identity"]');
    assert.equal(refreshed.status, 200);
    assert.ok(refreshed.$('#township option').length > 1);
    assert.equal(await stateOf(card), undefined);
  });

  test('bad passwords and contacts are refused one by one, each with its reason; nothing is saved', async () => {
    const card = await insertTestCard(site.t.services);
    const browser = new BrowserAgent(site.t.app);
    await startApplication(site, browser, card);
    await browser.submit(TEST_HOUSEHOLD, 'form[action="/register/identity"]');
    const good = { password: 'Taipei#2026', passwordConfirm: 'Taipei#2026', mobile: '0912345678', email: 'ok@example.com.tw' };
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ password: 'abc12', passwordConfirm: 'abc12' }, 'password', /6-12碼/],
      [{ password: 'abcdefghij123', passwordConfirm: 'abcdefghij123' }, 'password', /6-12碼/],
      [{ password: 'abc 1234', passwordConfirm: 'abc 1234' }, 'password', /空白/],
      [{ password: 'abc<1234', passwordConfirm: 'abc<1234' }, 'password', /小於/],
      [{ passwordConfirm: 'Taipei#2027' }, 'passwordConfirm', /不一致/],
      [{ password: card.sim.idNumber, passwordConfirm: card.sim.idNumber }, 'password', /身分證號/],
      [{ password: '19800131', passwordConfirm: '19800131' }, 'password', /出生日期/],
      [{ password: '690131', passwordConfirm: '690131' }, 'password', /出生日期/],
      [{ password: card.sim.cardNumber.slice(0, 12), passwordConfirm: card.sim.cardNumber.slice(0, 12) }, 'password', /健保卡號/],
      [{ mobile: '0212345678' }, 'mobile', /09 開頭/],
      [{ email: 'not-an-address' }, 'email', /格式不正確/],
      [{ localPhoneArea: '2', localPhoneNumber: '27065866' }, 'localPhoneArea', /區碼/],
    ];
    for (const [over, field, reason] of cases) {
      const page = await browser.submit({ ...good, ...over }, 'form[action="/register/credentials"]');
      assert.equal(page.status, 400, JSON.stringify(over));
      assert.match(beside(browser, field), reason, JSON.stringify(over));
      assert.ok(errorsOn(browser).some((e) => reason.test(e)), JSON.stringify(over));
      assert.equal(page.$('#mobile').val(), over.mobile ?? good.mobile);
    }
    const weak = await browser.submit({ ...good, password: 'abcdef', passwordConfirm: 'abcdeg' }, 'form[action="/register/credentials"]');
    assert.equal(weak.$('#password-strength').text(), '弱', 'the strength shows after a submit without JavaScript');
    const microsoft = await browser.submit({ ...good, passwordConfirm: 'x', email: 'me@hotmail.com' }, 'form[action="/register/credentials"]');
    assert.match(microsoft.$('main').text(), /微軟郵件信箱/);
    assert.equal(await stateOf(card), undefined);
  });

  test('the same form submitted twice makes one registration and one mail', async () => {
    const card = await insertTestCard(site.t.services);
    const browser = new BrowserAgent(site.t.app);
    await startApplication(site, browser, card);
    const form = await browser.submit(TEST_HOUSEHOLD, 'form[action="/register/identity"]');
    const fields = { _csrf: form.$('input[name=_csrf]').val() as string, password: 'Taipei#2026', passwordConfirm: 'Taipei#2026', mobile: '0912345678', email: 'twice@example.com' };
    const [first, second] = await Promise.all([
      browser.agent.post('/register/credentials').type('form').send(fields),
      browser.agent.post('/register/credentials').type('form').send(fields),
    ]);
    assert.deepEqual([first.status, second.status], [303, 303]);
    assert.deepEqual([first.headers.location, second.headers.location], ['/register/applied', '/register/applied']);
    const third = await browser.agent.post('/register/credentials').type('form').send(fields);
    assert.equal(third.status, 303);
    assert.equal(third.headers.location, '/register/applied');
    assert.equal((await sql('select 1 from registration where id_number = ?', [card.sim.idNumber])).length, 1);
    await site.t.services.mailWorker.runOnce();
    assert.equal(smtp.messages.filter((m) => m.to.includes('twice@example.com')).length, 1);
  });

  test('a card already registered, or only applied, cannot apply again; a void card cannot be read', async () => {
    const card = await insertTestCard(site.t.services);
    await applyOnline(site, new BrowserAgent(site.t.app), card, { email: 'first@example.com' });
    const again = await applyOnline(site, new BrowserAgent(site.t.app), card);
    assert.equal(again.status, 400);
    assert.match(again.$('.error-summary').text(), /此健保卡已申請註冊，尚未完成電子郵件信箱認證/);
    const voided = await insertTestCard(site.t.services, { status: 'void' });
    const browser = new BrowserAgent(site.t.app);
    const read = await startApplication(site, browser, voided);
    assert.match(read.$('#card-panel-register').text(), /./);
    const refused = await browser.submit(TEST_HOUSEHOLD, 'form[action="/register/identity"]');
    assert.equal(refused.status, 400);
    assert.match(errorsOn(browser).join(), /讀取/);
  });

  test('the household registry unavailable: a try-later page, nothing saved', async () => {
    const down = await startAppWithAgent(SERVER_ORIGIN);
    try {
      const card = await insertTestCard(down.t.services);
      const browser = new BrowserAgent(down.t.app);
      await startApplication(down, browser, card);
      await down.t.services.orm.em.fork().getConnection().execute('alter table person rename to person_offline');
      const page = await browser.submit(TEST_HOUSEHOLD, 'form[action="/register/identity"]');
      assert.equal(page.status, 503);
      assert.match(page.$('main').text(), /請稍後再試/);
      await down.t.services.orm.em.fork().getConnection().execute('alter table person_offline rename to person');
      assert.equal((await down.t.services.orm.em.fork().getConnection().execute('select count(*)::int as n from registration'))[0].n, 0);
    } finally {
      await down.close();
    }
  });

  test('the link expires after 5 days and points to resend; a resend voids the earlier link', async () => {
    const card = await insertTestCard(site.t.services);
    const browser = new BrowserAgent(site.t.app);
    await applyOnline(site, browser, card, { email: 'late@example.com' });
    const first = linkIn((await mailTo(site, smtp, 'late@example.com', /認證通知信/)).text, SERVER_ORIGIN);
    site.t.clock.advance(5 * 24 * 60 * 60 * 1000 + 1000);
    const expired = await new BrowserAgent(site.t.app).get(first);
    assert.equal(expired.status, 410);
    assert.match(expired.$('main').text(), /已逾期/);
    assert.equal(expired.$('a[href="/resend-confirmation"]').length, 1);
    site.t.clock.set(new Date());
    const resend = new BrowserAgent(site.t.app);
    await resend.get('/resend-confirmation');
    await readCardHere(site, resend, card, 'resend');
    const done = await resend.submit({ method: 'stored' }, 'form[action="/resend-confirmation"]');
    assert.match(done.$('main').text(), /您已申請成功，請至電子郵件信箱收取確認信/);
    const second = linkIn((await mailTo(site, smtp, 'late@example.com', /認證通知信/)).text, SERVER_ORIGIN);
    assert.notEqual(second, first);
    const superseded = await new BrowserAgent(site.t.app).get(first);
    assert.match(superseded.$('main').text(), /已由較新的認證信取代/);
    const confirming = new BrowserAgent(site.t.app);
    await confirming.get(second);
    const form = await readCardHere(site, confirming, card, 'confirm');
    const confirmed = await confirming.submit({}, 'form[action="/register/confirm"]');
    assert.match(confirmed.$('main').text(), /您已完成電子郵件信箱認證/);
    // 確定 pressed again (a double click, the browser's resubmit): the link is said to be used, nothing changes.
    const twice = await confirming.agent.post('/register/confirm').type('form').send({ _csrf: form.$('input[name=_csrf]').val() });
    assert.equal(twice.status, 410);
    assert.match(twice.text, /已使用過/);
    const used = await new BrowserAgent(site.t.app).get(second);
    assert.match(used.$('main').text(), /已使用過/);
  });

  test('resend answers the same for a registered and an unregistered card, and mails only the registered one; a new address needs the address and mobile', async () => {
    const applied = await insertTestCard(site.t.services);
    await applyOnline(site, new BrowserAgent(site.t.app), applied, { email: 'old@example.com', mobile: '0933444555' });
    const stranger = await insertTestCard(site.t.services);
    await site.t.services.mailWorker.runOnce();
    const before = smtp.messages.length;
    const answers: string[] = [];
    for (const card of [applied, stranger]) {
      const browser = new BrowserAgent(site.t.app);
      await browser.get('/resend-confirmation');
      const read = await readCardHere(site, browser, card, 'resend');
      assert.equal(read.status, 200, read.html.slice(0, 2000));
      const page = await browser.submit({ method: 'change', email: 'new@example.com', ...TEST_HOUSEHOLD, mobile: '0933444555' }, 'form[action="/resend-confirmation"]');
      answers.push(`${page.status} ${page.$('main').text().replace(/\s+/g, ' ')}`);
    }
    assert.equal(answers[0], answers[1]);
    await site.t.services.mailWorker.runOnce();
    const sent = smtp.messages.slice(before);
    assert.deepEqual(sent.map((m) => m.to), ['new@example.com']);
    // A wrong mobile: the same answer, no mail, the stored address unchanged.
    const browser = new BrowserAgent(site.t.app);
    await browser.get('/resend-confirmation');
    await readCardHere(site, browser, applied, 'resend');
    await browser.submit({ method: 'change', email: 'thief@example.com', ...TEST_HOUSEHOLD, mobile: '0900000000' }, 'form[action="/resend-confirmation"]');
    assert.match(browser.page!.$('main').text(), /您已申請成功/);
    await site.t.services.mailWorker.runOnce();
    assert.equal(smtp.messages.filter((m) => m.to.includes('thief@example.com')).length, 0);
    // A wrong address is the person's own registry record: said plainly.
    await browser.get('/resend-confirmation');
    await readCardHere(site, browser, applied, 'resend');
    const wrong = await browser.submit({ method: 'change', email: 'new@example.com', ...TEST_HOUSEHOLD, neighborhood: '9', mobile: '0933444555' }, 'form[action="/resend-confirmation"]');
    assert.equal(wrong.status, 400);
    assert.match(beside(browser, 'village'), /戶籍鄉鎮里鄰與戶政資料不符/);
    assert.equal(wrong.$('#email').val(), 'new@example.com');
  });

  test('links are stored hashed; no token, password or full ID number in the session store, outbox keys, audit or log', async () => {
    const card = await insertTestCard(site.t.services);
    const browser = new BrowserAgent(site.t.app);
    await applyOnline(site, browser, card, { email: 'hash@example.com' });
    const link = linkIn((await mailTo(site, smtp, 'hash@example.com', /認證通知信/)).text, SERVER_ORIGIN);
    const token = new URL(link, SERVER_ORIGIN).searchParams.get('token')!;
    await browser.get(link);
    const dump = JSON.stringify([
      await sql('select * from link_token'),
      await sql('select sess from session'),
      await sql('select idempotency_key from outbox_message'),
      await sql('select * from audit_event'),
    ]);
    assert.doesNotMatch(dump, new RegExp(token.replace(/[-_]/g, '.')));
    const audit = JSON.stringify(await sql('select * from audit_event'));
    assert.doesNotMatch(audit, new RegExp(card.sim.idNumber));
    assert.doesNotMatch(audit, /Taipei#2026/);
    await logIn(site, new BrowserAgent(site.t.app), card, 'Wrong#0000');
    assert.ok(logLines.some((line) => /mail .* sent/.test(line)), 'the log is captured');
    const log = logLines.join('\n');
    for (const secret of [token, card.sim.idNumber, 'Taipei#2026', 'Wrong#0000']) assert.ok(!log.includes(secret), `the log holds ${secret}`);
  });
});
