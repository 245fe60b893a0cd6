import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import { insertTestCard } from '../helpers/card-reads.js';
import { applyOnline, TEST_HOUSEHOLD } from '../helpers/flows.js';
import { auditRows, linkIn, logIn, mailsTo, registerActive, startLoginSite, type LoginSite, type Registered } from '../helpers/logins.js';
import { appClient, freshAddress, generateDeviceCode, newDevice } from '../helpers/devices.js';
import { linkTokenHash } from '../../src/platform/tokens/index.js';

// 刪除註冊申請 end to end (SPEC.md "Delete registration", seed 003 九): a browser without JavaScript, and one
// sending HX-Request; real SMTP; CAPTCHA_FIXED makes every image's answer known.
const CAPTCHA = '8642097';

describe('delete registration', () => {
  let site: LoginSite;
  before(async () => {
    site = await startLoginSite({ CAPTCHA_FIXED: CAPTCHA });
  });
  after(async () => {
    await site?.close();
  });
  beforeEach(() => site.t.clock.set(new Date()));

  const stateOf = async (idNumber: string) =>
    ((await site.t.services.orm.em.fork().getConnection().execute<{ state: string }[]>('select state from registration where id_number = ?', [idNumber]))[0])?.state;
  const mainText = (page: Page) => page.$('main').text().replace(/\s+/g, ' ').trim();
  const codeIn = (text: string) => /E-Mail 驗證碼：(\S{8})/.exec(text)?.[1];

  /** 檢核 then 送出刪除註冊 with the stored address (or what `choice` says). */
  async function requestDeletion(browser: BrowserAgent, idNumber: string, cardNumber: string, choice: Record<string, string> = {}, headers: Record<string, string> = {}) {
    await browser.get('/delete-registration');
    const checked = await browser.submit({ idNumber, cardNumber, captcha: CAPTCHA }, 'form[action="/delete-registration"]', headers);
    assert.equal(checked.status, 200, mainText(checked));
    const done = await browser.submit(choice, 'form[action="/delete-registration/submit"]', headers);
    return { checked, done };
  }

  async function codeFor(person: Registered, to = person.email): Promise<string> {
    const mails = (await mailsTo(site, to)).filter((m) => /刪除註冊確認信/.test(m.subject));
    const code = codeIn(mails.at(-1)?.text ?? '');
    assert.ok(code, `no deletion code mailed to ${to}`);
    return code;
  }

  async function confirmDeletion(browser: BrowserAgent, idNumber: string, code: string, headers: Record<string, string> = {}) {
    await browser.get('/delete-registration/confirm');
    return browser.submit({ idNumber, code, captcha: CAPTCHA }, 'form[action="/delete-registration/confirm"]', headers);
  }

  test('without JavaScript: 檢核, 送出刪除註冊, the code by mail, 確認: deleted, sessions ended, the card registers anew', async () => {
    const person = await registerActive(site);
    const { idNumber, cardNumber } = person.card.sim;
    const loggedIn = new BrowserAgent(site.t.app);
    assert.equal((await logIn(site, loggedIn, person.card, person.password)).url, '/account');
    // Logged in too, and silent until the card has registered again: its session must not come back to life.
    const idle = new BrowserAgent(site.t.app);
    assert.equal((await logIn(site, idle, person.card, person.password)).url, '/account');
    // And a phone with the app, bound and logged in.
    const phone = appClient(site.t.app, { address: freshAddress() });
    const device = newDevice();
    const bound = await phone.bind({ ...device, code: (await generateDeviceCode(loggedIn)).code });
    const appLogin = await phone.login({ idNumber, password: person.password, deviceId: device.deviceId, deviceToken: bound.body.deviceToken });
    assert.equal((await phone.devices(appLogin.body.accessToken)).status, 200);

    const browser = new BrowserAgent(site.t.app);
    const form = await browser.get('/delete-registration');
    assert.equal(form.status, 200);
    assert.match(mainText(form), /健保卡正面左下角12碼數字/);
    assert.equal(form.$('#captcha-field svg').length, 1, 'the captcha image is in the page');
    assert.match(form.$('#captcha-field button').text(), /變更圖片/);
    const { checked, done } = await requestDeletion(browser, idNumber, cardNumber);
    assert.match(checked.$('form[action="/delete-registration/submit"] button[type=submit]').text(), /送出刪除註冊/);
    assert.match(mainText(done), /您已申請成功，請至【註冊電子郵件信箱】收取刪除註冊確認信/);

    const mail = (await mailsTo(site, person.email)).find((m) => /刪除註冊確認信/.test(m.subject))!;
    assert.equal(linkIn(mail.text), '/delete-registration/confirm');
    const code = codeIn(mail.text)!;
    assert.match(code, /^[A-HJKMNP-Za-hjkmnp-z2-9]{8}$/, 'eight characters, no look-alikes');
    assert.equal(await stateOf(idNumber), 'active', 'until confirmed the registration keeps working');
    assert.equal((await loggedIn.get('/account')).url, '/account');

    const deleted = await confirmDeletion(browser, idNumber.toLowerCase(), code);
    assert.match(mainText(deleted), /刪除註冊成功，之後若您想再使用本系統，請重新申請/);
    assert.equal(await stateOf(idNumber), 'deleted');
    const openLinks = await site.t.services.orm.em.fork().getConnection().execute(`select 1 from link_token where subject = ? and used_at is null and superseded_at is null`, [idNumber]);
    assert.equal(openLinks.length, 0, 'no confirmation or reset link of the deleted registration still works');
    assert.ok((await mailsTo(site, person.email)).some((m) => /刪除通知/.test(m.subject)), 'the 刪除通知 mail');
    assert.equal((await loggedIn.get('/account')).url, '/?login=ended', 'the earlier login session is rejected');
    assert.equal((await phone.devices(appLogin.body.accessToken)).status, 401, "the app's access token is refused");
    assert.notEqual((await phone.login({ idNumber, password: person.password, deviceId: device.deviceId, deviceToken: bound.body.deviceToken })).status, 200);
    assert.notEqual((await logIn(site, new BrowserAgent(site.t.app), person.card, person.password)).url, '/account');

    const again = await applyOnline(site, new BrowserAgent(site.t.app), person.card, { email: 'again@example.com.tw' });
    assert.equal(again.url, '/register/applied', 'the card registers again');
    assert.equal(await stateOf(idNumber), 'pending');
    const [row] = await site.t.services.orm.em.fork().getConnection().execute<{ payload: { linkPath: string } }[]>(
      `select payload from outbox_message where template = 'registration-confirmation' and recipient = 'again@example.com.tw'`);
    const token = new URL(row!.payload.linkPath, 'http://localhost').searchParams.get('token')!;
    const card = { idNumber, cardNumber, name: person.card.sim.name, readAt: new Date().toISOString() };
    assert.equal(await site.t.services.api.registration.service.confirm(linkTokenHash(token), card, { clientAddress: '127.0.0.1' }), 'confirmed');
    assert.notEqual((await idle.get('/account')).url, '/account', 'a session of the deleted registration stays ended');
  });

  test('a pending registration can be deleted too, and its confirmation link stops working', async () => {
    const person = await registerActive(site, { state: 'pending' });
    const confirmation = (await mailsTo(site, person.email)).find((m) => /認證通知信/.test(m.subject))!;
    const browser = new BrowserAgent(site.t.app);
    await requestDeletion(browser, person.card.sim.idNumber, person.card.sim.cardNumber);
    assert.equal((await confirmDeletion(browser, person.card.sim.idNumber, await codeFor(person))).status, 200);
    const link = await new BrowserAgent(site.t.app).get(linkIn(confirmation.text));
    assert.equal(link.status, 410, 'the link of the deleted registration is superseded');
  });

  test('with HX-Request: each step answers with its panel, 變更圖片 swaps the captcha, and the flow deletes', async () => {
    const person = await registerActive(site);
    const { idNumber, cardNumber } = person.card.sim;
    const hx = { 'HX-Request': 'true' };
    const browser = new BrowserAgent(site.t.app);
    const page = await browser.get('/delete-registration');
    const image = await browser.agent.get('/delete-registration/captcha').set(hx);
    assert.equal(image.status, 200);
    assert.match(image.text, /^<div[^>]*id="captcha-field"/);
    assert.doesNotMatch(image.text, /<html/);
    assert.match(image.text, /<svg/);
    assert.notEqual(/name="captchaSeal" value="([^"]+)"/.exec(image.text)?.[1], page.$('input[name=captchaSeal]').val(), 'a new image');
    assert.match(image.headers['vary'] ?? '', /HX-Request/);

    const { checked, done } = await requestDeletion(browser, idNumber, cardNumber, {}, hx);
    assert.doesNotMatch(checked.html, /<html/);
    assert.equal(checked.$('#deletion-panel').length, 1);
    assert.match(done.$('#deletion-panel').text(), /您已申請成功，請至【註冊電子郵件信箱】收取刪除註冊確認信/);
    const confirmed = await confirmDeletion(browser, idNumber, await codeFor(person), hx);
    assert.doesNotMatch(confirmed.html, /<html/);
    assert.match(confirmed.$('#deletion-panel').text(), /刪除註冊成功/);
    assert.equal(await stateOf(idNumber), 'deleted');
  });

  test('a wrong captcha: a new image, the values kept, the message beside the field and in the summary; nothing sent', async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    const page = await browser.get('/delete-registration');
    const firstSeal = page.$('input[name=captchaSeal]').val();
    const wrong = await browser.submit({ idNumber: person.card.sim.idNumber, cardNumber: person.card.sim.cardNumber, captcha: '00000' }, 'form[action="/delete-registration"]');
    assert.equal(wrong.status, 400);
    assert.match(wrong.$('#captcha-error').text(), /圖片驗證碼錯誤/);
    assert.match(wrong.$('.error-summary').text(), /圖片驗證碼錯誤/);
    assert.equal(wrong.$('#idNumber').val(), person.card.sim.idNumber);
    assert.equal(wrong.$('#cardNumber').val(), person.card.sim.cardNumber);
    assert.notEqual(wrong.$('input[name=captchaSeal]').val(), firstSeal);
    assert.equal(wrong.$('form[action="/delete-registration/submit"]').length, 0);

    // 變更圖片 without JavaScript: the form again with what was typed, nothing checked.
    const refreshed = await browser.submit({ refresh: 'captcha' }, 'form[action="/delete-registration"]');
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.$('#cardNumber').val(), person.card.sim.cardNumber);
    assert.equal(refreshed.$('.error-summary').length, 0);
    assert.equal((await mailsTo(site, person.email)).filter((m) => /刪除/.test(m.subject)).length, 0);
    assert.equal(await stateOf(person.card.sim.idNumber), 'active');
  });

  test('a captcha answer works once: the same image and answer posted again are refused', async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    const page = await browser.get('/delete-registration');
    const fields = { _csrf: String(page.$('input[name=_csrf]').val()), captchaSeal: String(page.$('input[name=captchaSeal]').val()), idNumber: person.card.sim.idNumber, cardNumber: person.card.sim.cardNumber, captcha: CAPTCHA };
    assert.equal((await browser.post('/delete-registration', fields)).status, 200);
    const replay = await browser.post('/delete-registration', fields);
    assert.equal(replay.status, 400);
    assert.match(replay.$('#captcha-error').text(), /已逾時或已使用/);
  });

  test('a wrong code keeps the registration; the right code at minute 11 is refused', async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    await requestDeletion(browser, person.card.sim.idNumber, person.card.sim.cardNumber);
    const code = await codeFor(person);
    // The same code with its first letter in the other case (digits have no case).
    const at = code.search(/[A-Za-z]/);
    assert.ok(at >= 0, code);
    const letter = code[at]!;
    const flipped = code.slice(0, at) + (letter === letter.toUpperCase() ? letter.toLowerCase() : letter.toUpperCase()) + code.slice(at + 1);
    const wrong = await confirmDeletion(browser, person.card.sim.idNumber, flipped);
    assert.equal(wrong.status, 400, 'the code is case-sensitive');
    assert.match(wrong.$('#code-error').text(), /E-Mail 驗證碼錯誤或已失效/);
    assert.equal(wrong.$('#idNumber').val(), person.card.sim.idNumber);
    assert.equal(await stateOf(person.card.sim.idNumber), 'active');
    site.t.clock.advance(11 * 60 * 1000);
    const late = await confirmDeletion(browser, person.card.sim.idNumber, code);
    assert.equal(late.status, 400);
    assert.equal(await stateOf(person.card.sim.idNumber), 'active');
  });

  test('five wrong codes void the request: the right one is refused afterwards; a new request works', async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    await requestDeletion(browser, person.card.sim.idNumber, person.card.sim.cardNumber);
    const code = await codeFor(person);
    for (let i = 0; i < 5; i++) assert.equal((await confirmDeletion(browser, person.card.sim.idNumber, 'WRONG234')).status, 400);
    assert.equal((await confirmDeletion(browser, person.card.sim.idNumber, code)).status, 400);
    assert.equal(await stateOf(person.card.sim.idNumber), 'active');
    await requestDeletion(new BrowserAgent(site.t.app), person.card.sim.idNumber, person.card.sim.cardNumber);
    const fresh = await codeFor(person);
    assert.notEqual(fresh, code);
    assert.match(mainText(await confirmDeletion(browser, person.card.sim.idNumber, fresh)), /刪除註冊成功/);
  });

  test('a new request voids the previous code', async () => {
    const person = await registerActive(site);
    await requestDeletion(new BrowserAgent(site.t.app), person.card.sim.idNumber, person.card.sim.cardNumber);
    const first = await codeFor(person);
    await requestDeletion(new BrowserAgent(site.t.app), person.card.sim.idNumber, person.card.sim.cardNumber);
    const second = await codeFor(person);
    const browser = new BrowserAgent(site.t.app);
    assert.equal((await confirmDeletion(browser, person.card.sim.idNumber, first)).status, 400);
    assert.equal((await confirmDeletion(browser, person.card.sim.idNumber, second)).status, 200);
    assert.equal(await stateOf(person.card.sim.idNumber), 'deleted');
  });

  test('a registered and an unregistered pair get the same answers; only the registration is mailed', async () => {
    const person = await registerActive(site);
    const stranger = await insertTestCard(site.t.services);
    const answers = async (idNumber: string, cardNumber: string) => {
      const { checked, done } = await requestDeletion(new BrowserAgent(site.t.app), idNumber, cardNumber);
      const hide = (text: string) => text.replaceAll(idNumber, 'ID').replaceAll(cardNumber, 'CARD');
      return { checked: [checked.status, hide(mainText(checked))], done: [done.status, mainText(done)] };
    };
    await mailsTo(site, '@');
    const before = site.smtp.messages.length;
    const unregistered = await answers(stranger.sim.idNumber, stranger.sim.cardNumber);
    const wrongCard = await answers(person.card.sim.idNumber, '000000000001');
    await mailsTo(site, '@');
    assert.equal(site.smtp.messages.length, before, 'nobody is mailed for a pair that is not a registration');
    const registered = await answers(person.card.sim.idNumber, person.card.sim.cardNumber);
    assert.deepEqual(unregistered, registered);
    assert.deepEqual(wrongCard, registered);
    assert.equal((await mailsTo(site, person.email)).filter((m) => /刪除註冊確認信/.test(m.subject)).length, 1);
  });

  test('a second click on 送出刪除註冊 sends one mail, and its code still works', async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    await browser.get('/delete-registration');
    const checked = await browser.submit({ idNumber: person.card.sim.idNumber, cardNumber: person.card.sim.cardNumber, captcha: CAPTCHA }, 'form[action="/delete-registration"]');
    const fields = Object.fromEntries(checked.$('form[action="/delete-registration/submit"] input[type=hidden]').map((_i, el) => [[checked.$(el).attr('name')!, String(checked.$(el).val())]]).get() as [string, string][]);
    const first = await browser.post('/delete-registration/submit', { ...fields, method: 'stored' });
    const second = await browser.post('/delete-registration/submit', { ...fields, method: 'stored' });
    assert.equal(mainText(second), mainText(first));
    const mails = (await mailsTo(site, person.email)).filter((m) => /刪除註冊確認信/.test(m.subject));
    assert.equal(mails.length, 1);
    assert.equal((await confirmDeletion(browser, person.card.sim.idNumber, codeIn(mails[0]!.text)!)).status, 200);
  });

  test('option b: a new address proven by 戶籍鄉鎮里鄰 gets the code; a wrong address gets the same answer and no mail', async () => {
    const person = await registerActive(site);
    const { idNumber, cardNumber } = person.card.sim;
    const address = { county: TEST_HOUSEHOLD.county, township: TEST_HOUSEHOLD.township, village: TEST_HOUSEHOLD.village };
    const wrong = await requestDeletion(new BrowserAgent(site.t.app), idNumber, cardNumber, { method: 'change', email: 'wrong@example.com.tw', ...address, neighborhood: '9' });
    const right = await requestDeletion(new BrowserAgent(site.t.app), idNumber, cardNumber, { method: 'change', email: 'new@example.com.tw', ...address, neighborhood: TEST_HOUSEHOLD.neighborhood });
    assert.equal(mainText(wrong.done), mainText(right.done));
    assert.equal((await mailsTo(site, 'wrong@example.com.tw')).length, 0);
    const code = await codeFor(person, 'new@example.com.tw');
    assert.equal((await confirmDeletion(new BrowserAgent(site.t.app), idNumber, code)).status, 200);
    assert.ok((await mailsTo(site, person.email)).some((m) => /刪除通知/.test(m.subject)), 'the stored address hears of it too');
  });

  test('the audit trail has the request and the confirmation, masked, and never the code or the captcha', async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    await requestDeletion(browser, person.card.sim.idNumber, person.card.sim.cardNumber);
    const code = await codeFor(person);
    await confirmDeletion(browser, person.card.sim.idNumber, 'WRONG234');
    await confirmDeletion(browser, person.card.sim.idNumber, code);
    const rows = await auditRows(site);
    const masked = `${person.card.sim.idNumber.slice(0, 6)}****`;
    const mine = rows.filter((r) => r.subject === masked && String(r.action).startsWith('registration.delete'));
    assert.deepEqual(mine.map((r) => `${r.action} ${r.outcome}`), ['registration.delete.request success', 'registration.delete.confirm refused', 'registration.delete.confirm success']);
    const all = JSON.stringify(rows);
    assert.ok(!all.includes(code), 'no code');
    assert.ok(!all.includes(CAPTCHA), 'no captcha answer');
    assert.ok(!all.includes(person.card.sim.idNumber), 'no full ID number');
  });
});
