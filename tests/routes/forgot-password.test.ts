import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import { insertTestCard, type TestCard } from '../helpers/card-reads.js';
import { auditRows, linkIn, logIn, mailsTo, PASSWORD, readCardHere, registerActive, startLoginSite, type LoginSite } from '../helpers/logins.js';

// 忘記註冊密碼 → the mail → 重設註冊密碼 (SPEC.md "Forgot password"; QUALITY.md tokens, no enumeration, lockout).
describe('forgot password', () => {
  let site: LoginSite;
  before(async () => {
    site = await startLoginSite();
  });
  after(async () => site?.close());
  beforeEach(() => site.t.clock.set(new Date()));

  const NEW_PASSWORD = 'Keelung@2027';
  const DONE = '註冊密碼變更成功，下次使用【健保卡】登入系統請使用新的註冊密碼!';

  /** 忘記註冊密碼 with the card, option a (or b with `fields`). */
  async function askForReset(card: TestCard, fields: Record<string, string> = {}): Promise<Page> {
    const browser = new BrowserAgent(site.t.app);
    await browser.get('/forgot-password');
    await readCardHere(site, browser, card, 'forgot');
    return browser.submit(fields, 'form[action="/forgot-password"]');
  }

  async function resetLink(email: string): Promise<string> {
    const mail = (await mailsTo(site, email)).filter((m) => /重設註冊密碼/.test(m.subject)).at(-1);
    assert.ok(mail, `no reset mail to ${email}`);
    return linkIn(mail.text);
  }

  /** Opens the link, reads the card again, sets the new password twice. */
  async function resetWith(link: string, card: TestCard, password = NEW_PASSWORD): Promise<Page & { again(): Promise<Page> }> {
    const browser = new BrowserAgent(site.t.app);
    const page = await browser.get(link);
    assert.equal(page.url, '/reset-password', 'the token leaves the address bar');
    const form = await readCardHere(site, browser, card, 'reset');
    const done = await browser.submit({ password, passwordConfirm: password }, 'form[action="/reset-password"]');
    // The same form posted once more, as a double click or the browser's resubmit would.
    const again = async () => {
      browser.page = form;
      return browser.submit({ password, passwordConfirm: password }, 'form[action="/reset-password"]');
    };
    return Object.assign(done, { again });
  }

  test('the same answer for a registered and an unregistered card; only the registered one gets mail', async () => {
    const { card, email } = await registerActive(site);
    const stranger = await insertTestCard(site.t.services);
    await site.t.services.mailWorker.runOnce(); // the registration's own mails
    const before = site.smtp.messages.length;
    const registered = await askForReset(card);
    const unregistered = await askForReset(stranger);
    assert.equal(registered.status, 200);
    assert.equal(unregistered.status, registered.status);
    assert.equal(unregistered.$('main').text(), registered.$('main').text(), 'the same words');
    assert.match(registered.$('main').text(), /您已申請成功，請至電子郵件信箱收取確認信/);
    await site.t.services.mailWorker.runOnce();
    const sent = site.smtp.messages.slice(before);
    assert.equal(sent.length, 1, 'one mail, to the registered person');
    assert.ok(sent[0]!.to.includes(email));
    assert.equal(sent[0]!.subject, '健保卡網路服務註冊-重設註冊密碼');
  });

  test('the link, the card again, the new password twice: changed, the lockout lifted, the other sessions ended, a notice mailed', async () => {
    const { card, email } = await registerActive(site);
    // Client B logs in; then someone locks the card with 5 wrong passwords.
    const clientB = new BrowserAgent(site.t.app);
    assert.equal((await logIn(site, clientB, card, PASSWORD)).url, '/account');
    const attacker = new BrowserAgent(site.t.app);
    for (let i = 0; i < 5; i++) await logIn(site, attacker, card, `Wrong#${i}99`);
    assert.equal((await site.t.services.api.credentials.lockState(card.sim.idNumber)).locked, true);

    await askForReset(card);
    const link = await resetLink(email);
    assert.match(link, /^\/reset-password\?token=[A-Za-z0-9_-]{43}$/);
    const done = await resetWith(link, card);
    assert.equal(done.status, 200);
    assert.match(done.$('main').text(), new RegExp(DONE.replace(/[【】!]/g, '.')));
    assert.equal((await site.t.services.api.credentials.lockState(card.sim.idNumber)).locked, false, 'a reset lifts the lockout');

    assert.equal((await clientB.get('/account')).url, '/?login=ended', "client B's earlier session is ended");
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), card, PASSWORD)).status, 400, 'the old password no longer works');
    assert.equal((await logIn(site, new BrowserAgent(site.t.app), card, NEW_PASSWORD)).url, '/account', 'the new one does');
    const notice = (await mailsTo(site, email)).find((m) => /註冊密碼變更通知/.test(m.subject));
    assert.ok(notice, 'a password-changed notice');

    // The link is single use: the same form again, or the link opened again, hears "used".
    const resubmitted = await done.again();
    assert.equal(resubmitted.status, 410);
    assert.match(resubmitted.$('main').text(), /已使用過/);
    const again = await new BrowserAgent(site.t.app).get(link);
    assert.equal(again.status, 410);
    assert.match(again.$('main').text(), /已使用過/);
    assert.equal(again.$('main a[href="/forgot-password"]').length, 1);

    const audit = await auditRows(site);
    assert.ok(audit.some((a) => a.action === 'password.reset_request' && a.outcome === 'success'));
    assert.ok(audit.some((a) => a.action === 'password.reset' && a.outcome === 'success'));
    const all = JSON.stringify(audit);
    const token = link.split('token=')[1]!;
    for (const secret of [card.sim.idNumber, PASSWORD, NEW_PASSWORD, token]) assert.ok(!all.includes(secret), 'no password, token or full ID in the audit table');
  });

  test('an expired link (1 day and 1 second later) and a superseded one say so and point to 忘記註冊密碼', async () => {
    const { card, email } = await registerActive(site);
    await askForReset(card);
    const first = await resetLink(email);
    await askForReset(card);
    const second = await resetLink(email);
    assert.notEqual(first, second);
    const superseded = await new BrowserAgent(site.t.app).get(first);
    assert.equal(superseded.status, 410);
    assert.match(superseded.$('main').text(), /已由較新的信件取代/);

    site.t.clock.advance(24 * 60 * 60 * 1000 + 1000);
    const expired = await new BrowserAgent(site.t.app).get(second);
    assert.equal(expired.status, 410);
    assert.match(expired.$('main').text(), /已逾期/);
    assert.equal(expired.$('main a[href="/forgot-password"]').length, 1);
  });

  test('option b: a new address only when 戶籍鄉鎮里鄰 and the mobile match; the old address is told', async () => {
    const { card, email } = await registerActive(site, { mobile: '0922333444' });
    const address = { method: 'change', county: '63000', township: '63000010', village: '63000010002', neighborhood: '1' };
    await askForReset(card, { ...address, email: 'new-home@example.com.tw', mobile: '0911000000' });
    assert.equal((await mailsTo(site, 'new-home@example.com.tw')).length, 0, 'a wrong mobile mails nobody');
    assert.equal((await site.t.services.api.registration.service.account(card.sim.idNumber))!.email, email);

    const mismatch = await askForReset(card, { ...address, neighborhood: '2', email: 'new-home@example.com.tw', mobile: '0922333444' });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.$('.error-summary').text(), /戶籍鄉鎮里鄰與戶政資料不符/);

    await askForReset(card, { ...address, email: 'new-home@example.com.tw', mobile: '0922333444' });
    assert.match(await resetLink('new-home@example.com.tw'), /^\/reset-password\?token=/);
    assert.equal((await site.t.services.api.registration.service.account(card.sim.idNumber))!.email, 'new-home@example.com.tw');
    assert.ok((await mailsTo(site, email)).some((m) => /電子郵件信箱變更通知/.test(m.subject)), 'the old address hears of the change');
  });

  test('the reset page refuses another person\'s card and a weak personal password, keeping the link usable', async () => {
    const { card, email } = await registerActive(site);
    const other = await insertTestCard(site.t.services);
    await askForReset(card);
    const link = await resetLink(email);
    const browser = new BrowserAgent(site.t.app);
    await browser.get(link);
    const refused = await readCardHere(site, browser, other, 'reset');
    assert.equal(refused.$('#card-panel-reset .card-holder-name').text(), '', "another person's card is not taken");
    await readCardHere(site, browser, card, 'reset');
    const birthDate = await browser.submit({ password: '19800131', passwordConfirm: '19800131' }, 'form[action="/reset-password"]');
    assert.equal(birthDate.status, 400);
    assert.match(birthDate.$('#password-error').text(), /不可為出生日期/);
    const mismatch = await browser.submit({ password: NEW_PASSWORD, passwordConfirm: 'Other#1234' }, 'form[action="/reset-password"]');
    assert.match(mismatch.$('#passwordConfirm-error').text(), /不一致/);
    const ok = await browser.submit({ password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }, 'form[action="/reset-password"]');
    assert.equal(ok.status, 200);
  });
});
