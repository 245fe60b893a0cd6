import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Locale } from '../../src/platform/i18n/index.js';
import { linkTokenHash } from '../../src/platform/tokens/index.js';
import type { EmployerPerson } from '../../src/modules/registration/index.js';
import { registrations } from '../../src/modules/registration/repository.js';
import { TAIPEI_NOON, useTestApp } from '../helpers/app.js';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import { insertTestCard, readInto, SERVER_ORIGIN, testIdNumber, type TestCard } from '../helpers/card-reads.js';

const FIVE_DAYS = 5 * 24 * 60 * 60 * 1000;
const UNIT = '12345678';
const PASSWORD = 'Bulk#2026ok';

// 健保卡整批註冊-註冊申請人: registrations an employer's upload made, their 認證信 and 健保卡註冊認證作業.
describe('registrations made by an employer bulk upload, and their activation', () => {
  const t = useTestApp({ rateLimits: { accountSteps: { points: 10_000, durationSeconds: 60 }, login: { points: 10_000, durationSeconds: 60 } } });
  beforeEach(() => t.clock.set(TAIPEI_NOON));

  const registration = () => t.services.api.registration.service;
  const sql = async <T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> =>
    (await t.services.orm.em.fork().getConnection().execute(query, params)) as T[];
  const rowOf = async (idNumber: string) => (await sql<Record<string, unknown>>('select * from registration where id_number = ?', [idNumber]))[0];
  const errorsOn = (page: Page) => page.$('.error-summary li').map((_i, el) => page.$(el).text()).get();
  const beside = (page: Page, field: string) => page.$(`#${field}-error`).text();
  const text = (page: Page) => page.$('main').text().replace(/\s+/g, ' ');

  const personOf = (card: TestCard, line: number, email: string, cardNumber = card.sim.cardNumber): EmployerPerson => ({
    line,
    idNumber: card.sim.idNumber,
    cardNumber,
    email,
    mobile: '0912345678',
  });
  /** One batch of the upload job, in a transaction of its own as the job runs it. */
  const registerBatch = (people: EmployerPerson[], options: { uploadId?: string; locale?: Locale } = {}) =>
    t.services.orm.em.fork().transactional((em) =>
      registration().registerForEmployer(em, { unitCode: UNIT, uploadId: options.uploadId ?? randomUUID(), locale: options.locale ?? 'zh-TW', people }),
    );
  const activationMails = (to: string) =>
    sql<{ idempotency_key: string; locale: string; payload: { linkPath: string; unitCode: string; expiresAt: string } }>(
      `select idempotency_key, locale, payload from outbox_message where template = 'registration-activation' and recipient = ? order by created_at, idempotency_key`,
      [to],
    );
  const newestLink = async (to: string) => {
    const mails = await sql<{ payload: { linkPath: string } }>(
      `select payload from outbox_message where template = 'registration-activation' and recipient = ? order by created_at desc limit 1`,
      [to],
    );
    assert.ok(mails[0], `no activation mail to ${to}`);
    return mails[0].payload.linkPath;
  };
  /** An active registration made in person at the counter (no mailed link involved). */
  const activeAtCounter = (card: TestCard, email: string) =>
    t.services.orm.em.fork().transactional((em) =>
      registration().registerAtCounter(em, {
        identity: { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate },
        password: 'Counter#2026',
        contacts: { email },
        locale: 'zh-TW',
        counter: { staff: 'clerk01', terminalId: null, documents: ['id-card'] },
        clientAddress: '127.0.0.1',
      }),
    );
  const inTransaction = <T>(work: (em: EntityManager) => Promise<T>) => t.services.orm.em.fork().transactional(work);

  /** The link → the page → the person's card read → the password twice → 確定. Returns the last page. */
  async function activate(browser: BrowserAgent, card: TestCard, linkPath: string, password = PASSWORD): Promise<Page> {
    const page = await browser.get(linkPath);
    assert.equal(page.url, '/register/activate', text(page));
    await readInto(t, browser, card, 'activate');
    return browser.submit({ password, passwordConfirm: password }, 'form[action="/register/activate"]');
  }

  test('registerForEmployer registers the new and the deleted, never the active; each gets one token and one mail; a second run registers nobody', async () => {
    const [active, deleted, fresh] = [await insertTestCard(t.services), await insertTestCard(t.services), await insertTestCard(t.services)];
    assert.equal(await activeAtCounter(active, 'active@example.com'), 'registered');
    assert.equal(await activeAtCounter(deleted, 'deleted-old@example.com'), 'registered');
    await inTransaction((em) => registrations.markDeleted(em, deleted.sim.idNumber, t.clock.now()));
    const deletedEpoch = (await rowOf(deleted.sim.idNumber))!.session_epoch as number;
    const activeBefore = await rowOf(active.sim.idNumber);
    const uploadId = randomUUID();
    const people = [personOf(active, 2, 'active-new@example.com'), personOf(deleted, 3, 'deleted@example.com'), personOf(fresh, 4, 'fresh@example.com')];

    const states = await registration().accountStates(t.services.orm.em.fork(), people.map((p) => p.idNumber));
    assert.deepEqual(Object.fromEntries(states), { [active.sim.idNumber]: 'active', [deleted.sim.idNumber]: 'deleted' });

    const registered = await registerBatch(people, { uploadId });
    assert.deepEqual([...registered].sort(), [deleted.sim.idNumber, fresh.sim.idNumber].sort());
    assert.deepEqual(await rowOf(active.sim.idNumber), activeBefore, 'the active registration is untouched');
    for (const [card, email] of [[deleted, 'deleted@example.com'], [fresh, 'fresh@example.com']] as const) {
      const row = (await rowOf(card.sim.idNumber))!;
      assert.equal(row.state, 'pending');
      assert.equal(row.needs_password, true);
      assert.equal(row.password_hash, '');
      assert.equal(row.via_unit, UNIT);
      assert.equal(row.confirmed_at, null);
      assert.equal(row.email, email);
      assert.equal(row.card_number, card.sim.cardNumber);
    }
    assert.equal((await rowOf(deleted.sim.idNumber))!.session_epoch, deletedEpoch + 1, 'over a deleted one the epoch moves on');
    assert.equal((await rowOf(fresh.sim.idNumber))!.session_epoch, 0);

    const tokensOf = (idNumber: string) => sql<{ hash: string; expires_at: Date }>(`select hash, expires_at from link_token where purpose = 'activate' and subject = ?`, [idNumber]);
    assert.equal((await tokensOf(active.sim.idNumber)).length, 0);
    assert.equal((await activationMails('active-new@example.com')).length, 0, 'nothing for the active one');
    for (const [line, card, email] of [[3, deleted, 'deleted@example.com'], [4, fresh, 'fresh@example.com']] as const) {
      const mails = await activationMails(email);
      assert.equal(mails.length, 1, email);
      const [mail] = mails;
      assert.equal(mail!.idempotency_key, `registration-activation:${uploadId}:${line}`);
      assert.equal(mail!.payload.unitCode, UNIT);
      const link = new URL(mail!.payload.linkPath, SERVER_ORIGIN);
      assert.equal(link.pathname, '/register/activate');
      const tokens = await tokensOf(card.sim.idNumber);
      assert.equal(tokens.length, 1);
      assert.equal(tokens[0]!.hash, linkTokenHash(link.searchParams.get('token')!), 'only the hash of the mailed token is stored');
      assert.equal(new Date(tokens[0]!.expires_at).getTime(), t.clock.now().getTime() + FIVE_DAYS);
    }
    const mail = (await activationMails('fresh@example.com'))[0]!;
    const rendered = t.services.mail.render('registration-activation', 'zh-TW', mail.payload);
    assert.equal(rendered.subject, '健保卡網路服務註冊-認證通知信');
    for (const words of ['健保卡註冊認證作業', UNIT, '整批', '5 日', '民國115年3月7日 12:00:00', '重寄認證信', '讀取', '註冊密碼', '確定', `${SERVER_ORIGIN}${mail.payload.linkPath}`]) {
      assert.ok(rendered.text.includes(words), `the mail says ${words}: ${rendered.text}`);
    }
    assert.match(rendered.html!, /<a href="http:\/\/localhost:3000\/register\/activate\?token=[^"]+">健保卡註冊認證作業<\/a>/);

    const [audit] = await sql<{ actor_type: string; actor_id: string; subject: string; detail: Record<string, number> }>(
      `select actor_type, actor_id, subject, detail from audit_event where action = 'registration.employer_register' and subject = ?`,
      [uploadId],
    );
    assert.deepEqual({ ...audit, detail: { registered: audit!.detail.registered, skipped: audit!.detail.skipped } }, { actor_type: 'employer', actor_id: UNIT, subject: uploadId, detail: { registered: 2, skipped: 1 } });

    const outboxBefore = (await sql('select id from outbox_message')).length;
    const tokensBefore = (await sql('select hash from link_token')).length;
    const again = await registerBatch(people, { uploadId });
    assert.equal(again.size, 0, 'the same people again: nobody registered');
    assert.equal((await sql('select id from outbox_message')).length, outboxBefore, 'and no mail queued');
    assert.equal((await sql('select hash from link_token')).length, tokensBefore, 'and no link issued');
  });

  test('1,000 people in one call: one statement each for registrations, links and mails, measured', async () => {
    const ids = new Set<string>();
    while (ids.size < 3000) ids.add(testIdNumber(ids.size % 2 ? 'F' : 'M'));
    const all = [...ids].map((idNumber, i) => ({ line: (i % 1000) + 2, idNumber, cardNumber: String(100000000000 + i), email: `p${i}@example.com.tw`, mobile: i % 3 ? '0912345678' : null }));
    const timings: number[] = [];
    // Three batches of one upload, as the job commits them: the first includes the warm-up.
    for (let batch = 0; batch < 3; batch++) {
      const people = all.slice(batch * 1000, (batch + 1) * 1000);
      const uploadId = randomUUID();
      const started = performance.now();
      const registered = await registerBatch(people, { uploadId });
      timings.push(performance.now() - started);
      assert.equal(registered.size, 1000);
      assert.equal((await sql<{ n: number }>(`select count(*)::int as n from outbox_message where idempotency_key like ?`, [`registration-activation:${uploadId}:%`]))[0]!.n, 1000);
      assert.equal((await sql<{ n: number }>(`select count(*)::int as n from link_token where purpose = 'activate' and used_at is null and superseded_at is null and subject in (?)`, [people.map((p) => p.idNumber)]))[0]!.n, 1000);
    }
    console.log(`registerForEmployer, 1,000 people a call (commit included): ${timings.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
    assert.equal((await sql<{ n: number }>(`select count(*)::int as n from registration where via_unit = ? and needs_password and state = 'pending' and id_number in (?)`, [UNIT, [...ids]]))[0]!.n, 3000);
    // 100,000 rows in 30 s leaves 300 ms a batch for everything the job does; this call must stay well inside a second.
    assert.ok(Math.max(...timings) < 1000, `1,000 people took ${timings.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  });

  test('without JavaScript: the link, the card, passwords that differ, the right ones: 認證成功, active, 註冊完成通知, and the card + password log in', async () => {
    const card = await insertTestCard(t.services, { name: '陳建宏' });
    // The upload named the card the unit knew; the person reads the card in hand, which becomes the registration's.
    await registerBatch([personOf(card, 2, 'chen@example.com', '000099998888')]);
    const browser = new BrowserAgent(t.app);
    const linkPath = await newestLink('chen@example.com');
    const landed = await browser.get(linkPath);
    assert.equal(landed.url, '/register/activate', 'the token leaves the address bar');
    assert.doesNotMatch(landed.html, new RegExp(new URL(linkPath, SERVER_ORIGIN).searchParams.get('token')!.replace(/[-_]/g, '.')));
    assert.match(landed.$('h1').text(), /健保卡註冊認證作業/);
    assert.equal(landed.$('#card-panel-activate form.card-read-form').length, 1);
    assert.equal(landed.$('#password-strength').length, 1, 'the strength indicator');
    const read = await readInto(t, browser, card, 'activate');
    assert.equal(read.$('#card-panel-activate .card-holder-name').text(), '陳建宏');

    const differ = await browser.submit({ password: PASSWORD, passwordConfirm: 'Bulk#2026no' }, 'form[action="/register/activate"]');
    assert.equal(differ.status, 400);
    assert.match(beside(differ, 'passwordConfirm'), /兩次輸入的註冊密碼不一致/);
    assert.ok(errorsOn(differ).some((e) => /不一致/.test(e)));
    assert.equal(differ.$('#password-strength').text(), '強', 'the strength of what was typed, without JavaScript');
    assert.doesNotMatch(differ.html, /Bulk#2026/, 'passwords are never shown again');
    const birthday = await browser.submit({ password: '19800131', passwordConfirm: '19800131' }, 'form[action="/register/activate"]');
    assert.equal(birthday.status, 400);
    assert.match(beside(birthday, 'password'), /出生日期/);
    const short = await browser.submit({ password: 'ab12', passwordConfirm: 'ab12' }, 'form[action="/register/activate"]');
    assert.match(beside(short, 'password'), /6-12碼/);
    const pending = (await rowOf(card.sim.idNumber))!;
    assert.equal(pending.state, 'pending');
    assert.equal(pending.password_hash, '', 'nothing saved');

    const done = await browser.submit({ password: PASSWORD, passwordConfirm: PASSWORD }, 'form[action="/register/activate"]');
    assert.equal(done.url, '/register/activated');
    assert.match(text(done), /認證成功/);
    assert.ok(done.$('main a[href="/"]').length, 'a link to log in');
    const row = (await rowOf(card.sim.idNumber))!;
    assert.equal(row.state, 'active');
    assert.equal(row.needs_password, false);
    assert.ok(row.confirmed_at);
    assert.notEqual(row.password_hash, '');
    assert.equal(row.card_number, card.sim.cardNumber);
    const complete = await sql(`select id from outbox_message where template = 'registration-complete' and recipient = ?`, ['chen@example.com']);
    assert.equal(complete.length, 1, 'the 註冊完成通知 is queued');

    // 確定 again (a double click, the browser's resubmit): the link is said to be used, nothing changes.
    const twice = await browser.post('/register/activate', { _csrf: read.$('input[name=_csrf]').first().val() as string, password: 'Other#2026x', passwordConfirm: 'Other#2026x' });
    assert.equal(twice.status, 410);
    assert.match(text(twice), /已使用過/);
    assert.equal((await rowOf(card.sim.idNumber))!.password_hash, row.password_hash);
    const used = await new BrowserAgent(t.app).get(linkPath);
    assert.equal(used.status, 410);
    assert.match(text(used), /已使用過/);
    assert.equal(used.$('a[href="/resend-confirmation"]').length, 1);

    const login = new BrowserAgent(t.app);
    await login.get('/');
    await readInto(t, login, card, 'login');
    const account = await login.submit({ password: PASSWORD }, 'form.login-form');
    assert.equal(account.url, '/account');
  });

  test("another person's card is refused at the read on the activation page; nothing is saved", async () => {
    const card = await insertTestCard(t.services);
    const other = await insertTestCard(t.services, { name: '林志明' });
    await registerBatch([personOf(card, 2, 'own@example.com')]);
    const browser = new BrowserAgent(t.app);
    await browser.get(await newestLink('own@example.com'));
    const read = await readInto(t, browser, other, 'activate');
    assert.match(read.$('#card-panel-activate').text(), /不是本人的健保卡/);
    assert.equal(read.$('#card-panel-activate .card-holder-name').text(), '', 'the other card is not held');
    const page = await browser.submit({ password: PASSWORD, passwordConfirm: PASSWORD }, 'form[action="/register/activate"]');
    assert.equal(page.status, 400);
    assert.match(beside(page, 'card-panel-activate'), /讀取/);
    assert.ok(errorsOn(page).some((e) => /讀取/.test(e)));
    const row = (await rowOf(card.sim.idNumber))!;
    assert.equal(row.state, 'pending');
    assert.equal(row.password_hash, '');
  });

  test('the link after 5 days is expired and points to 重寄認證信', async () => {
    const card = await insertTestCard(t.services);
    await registerBatch([personOf(card, 2, 'late@example.com')]);
    const linkPath = await newestLink('late@example.com');
    t.clock.advance(FIVE_DAYS - 60_000);
    assert.equal((await new BrowserAgent(t.app).get(linkPath)).url, '/register/activate', 'still valid a minute before');
    t.clock.advance(2 * 60_000);
    const expired = await new BrowserAgent(t.app).get(linkPath);
    assert.equal(expired.status, 410);
    assert.match(text(expired), /已逾期/);
    assert.equal(expired.$('a[href="/resend-confirmation"]').length, 1);
  });

  test('重寄認證信 on the public page mails a new activation link: the old one no longer works, the new one does', async () => {
    const card = await insertTestCard(t.services);
    await registerBatch([personOf(card, 2, 'again@example.com')]);
    const first = await newestLink('again@example.com');
    t.clock.advance(FIVE_DAYS + 60_000);
    const resend = new BrowserAgent(t.app);
    await resend.get('/resend-confirmation');
    await readInto(t, resend, card, 'resend');
    const done = await resend.submit({ method: 'stored' }, 'form[action="/resend-confirmation"]');
    assert.match(text(done), /您已申請成功，請至電子郵件信箱收取確認信/);
    const mails = await activationMails('again@example.com');
    assert.equal(mails.length, 2, 'a second 認證信 of 健保卡註冊認證作業');
    assert.match(mails[1]!.idempotency_key, /^registration-activation:resend:/);
    assert.equal((await sql(`select id from outbox_message where template = 'registration-confirmation' and recipient = ?`, ['again@example.com'])).length, 0, 'not the confirmation link of an online application');
    const second = await newestLink('again@example.com');
    assert.notEqual(second, first);
    const old = await new BrowserAgent(t.app).get(first);
    assert.equal(old.status, 410);
    assert.match(text(old), /已由較新的認證信取代/);
    const done2 = await activate(new BrowserAgent(t.app), card, second);
    assert.match(text(done2), /認證成功/);
    assert.equal((await rowOf(card.sim.idNumber))!.state, 'active');
  });

  test('重寄認證信 at the counter sends such a person a new activation link; an online application still gets its confirmation link', async () => {
    const bulk = await insertTestCard(t.services);
    await registerBatch([personOf(bulk, 2, 'counter-bulk@example.com')]);
    const first = await newestLink('counter-bulk@example.com');
    t.clock.advance(60 * 60 * 1000);
    assert.equal(await inTransaction((em) => registration().resendConfirmation(em, bulk.sim.idNumber)), 'sent');
    const second = await newestLink('counter-bulk@example.com');
    assert.notEqual(second, first);
    assert.equal((await new BrowserAgent(t.app).get(first)).status, 410);
    assert.equal((await new BrowserAgent(t.app).get(second)).url, '/register/activate');

    const online = await insertTestCard(t.services);
    const identity = { idNumber: online.sim.idNumber, cardNumber: online.sim.cardNumber, name: online.sim.name, birthDate: online.sim.birthDate };
    await registration().apply({ identity, password: 'Online#2026', contacts: { email: 'online@example.com' }, locale: 'zh-TW', clientAddress: '127.0.0.1' });
    assert.equal(await inTransaction((em) => registration().resendConfirmation(em, online.sim.idNumber)), 'sent');
    const templates = await sql<{ template: string }>('select template from outbox_message where recipient = ? order by created_at', ['online@example.com']);
    assert.deepEqual(templates.map((r) => r.template), ['registration-confirmation', 'registration-confirmation']);
  });

  test('before activation, logging in gets the pending answer with the 重寄認證信 link', async () => {
    const card = await insertTestCard(t.services);
    await registerBatch([personOf(card, 2, 'waiting@example.com')]);
    const browser = new BrowserAgent(t.app);
    await browser.get('/');
    await readInto(t, browser, card, 'login');
    for (const password of [PASSWORD, 'Another#123']) {
      const refused = await browser.submit({ password }, 'form.login-form');
      assert.equal(refused.status, 400);
      assert.notEqual(refused.url, '/account');
      assert.equal(refused.$('a[href="/resend-confirmation"]').length > 0, true);
    }
  });

  test('in English: the mail, the page, its errors and 認證成功', async () => {
    const card = await insertTestCard(t.services);
    await registerBatch([personOf(card, 2, 'english@example.com')], { locale: 'en' });
    const [mail] = await activationMails('english@example.com');
    assert.equal(mail!.locale, 'en');
    const rendered = t.services.mail.render('registration-activation', 'en', mail!.payload);
    assert.match(rendered.subject, /^NHI Card Online Services Registration/);
    for (const words of ['NHI Card Registration Verification', UNIT, 'in bulk', '5 days', '2026-03-07 12:00:00', 'Resend verification e-mail', '"Read"', 'registration password', `${SERVER_ORIGIN}${mail!.payload.linkPath}`]) {
      assert.ok(rendered.text.includes(words), `the mail says ${words}: ${rendered.text}`);
    }
    assert.ok(!rendered.text.includes('民國'));

    const browser = new BrowserAgent(t.app);
    const page = await browser.get(`${mail!.payload.linkPath}&lang=en`);
    assert.equal(page.url, '/register/activate');
    assert.match(page.$('h1').text(), /NHI Card Registration Verification/);
    await readInto(t, browser, card, 'activate');
    const differ = await browser.submit({ password: PASSWORD, passwordConfirm: 'Bulk#2026no' }, 'form[action="/register/activate"]');
    assert.equal(differ.status, 400);
    assert.match(beside(differ, 'passwordConfirm'), /The two passwords are not the same/);
    const done = await browser.submit({ password: PASSWORD, passwordConfirm: PASSWORD }, 'form[action="/register/activate"]');
    assert.match(text(done), /Verification successful/);
    const expired = await new BrowserAgent(t.app).get(`${mail!.payload.linkPath}&lang=en`);
    assert.match(text(expired), /has been used already/);
  });
});
