import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { cardKeyPairFromSeed, generateSeed, signCardAssertion } from '../../src/agent/index.js';
import type { TestApp } from '../helpers/app.js';
import { startAppWithAgent, type AppWithAgent } from '../helpers/site.js';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import {
  insertTestCard,
  postBack,
  readAtAgent,
  readFormOf,
  SERVER_ORIGIN,
  type FormData,
  type TestAgent,
  type TestCard,
} from '../helpers/card-reads.js';

// The card read end to end: the real app, the real agent process (simulated reader), a no-JS browser.
describe('card reads', () => {
  let t: TestApp;
  let agent: TestAgent;
  let running: AppWithAgent;
  before(async () => {
    running = await startAppWithAgent();
    ({ t, agent } = running);
  });
  after(async () => running?.close());
  beforeEach(() => t.clock.set(new Date()));

  const holder = (page: Page) => page.$('#card-panel-login .card-holder-name').text();
  const panelText = (page: Page) => page.$('#card-panel-login').text();
  const requestRowsOfState = async (state: string) =>
    ((await t.services.orm.em.fork().getConnection().execute(`select id from card_read_request where state = ? order by created_at`, [state])) as { id: string }[]).map((r) => r.id);
  const requestRow = async (id: string) =>
    (await t.services.orm.em.fork().getConnection().execute(`select * from card_read_request where id = ?`, [id]))[0] as Record<string, unknown>;

  /** GET / and read the card through the agent: the agent page's form (assertion or error). */
  async function readCard(browser: BrowserAgent, card: TestCard | null): Promise<{ form: FormData; answer: FormData & { html: string } }> {
    if (card) await agent.insert(card.sim);
    else await agent.remove();
    const form = readFormOf(await browser.get('/'));
    const answer = await readAtAgent(form);
    assert.equal(answer.status, 200, answer.html);
    return { form, answer };
  }

  /** The full way back: POST to the server (no cookie) → 303 → the browser follows the claim. */
  async function readAndClaim(browser: BrowserAgent, card: TestCard | null): Promise<Page> {
    const { answer } = await readCard(browser, card);
    const back = await postBack(t.app, answer);
    assert.equal(back.status, 303);
    return browser.get(back.headers.location!);
  }

  async function postAssertion(browser: BrowserAgent, id: string, assertion: string): Promise<Page> {
    const back = await request(t.app).post(`/card-reads/${id}`).type('form').send({ req: id, assertion });
    assert.equal(back.status, 303);
    assert.equal(back.headers.location, `/card-reads/${id}/claim`);
    return browser.get(back.headers.location!);
  }

  const payloadFor = (card: TestCard, form: FormData, over: object = {}) => ({
    v: 1 as const,
    req: form.fields.req!,
    challenge: form.fields.challenge!,
    aud: SERVER_ORIGIN,
    iat: Math.floor(Date.now() / 1000),
    card: { number: card.sim.cardNumber, idNumber: card.sim.idNumber, name: card.sim.name, birthDate: card.sim.birthDate, sex: card.sim.sex, issuedOn: card.sim.issuedOn },
    ...over,
  });

  test('no JS: read at the agent, post back without the session, claim with it, the name appears; 清除 with and without HTMX', async () => {
    const card = await insertTestCard(t.services, { name: '陳美玲', sex: 'F' });
    const browser = new BrowserAgent(t.app);
    const home = await browser.get('/');
    assert.match(panelText(home), /請插入健保卡後，按『讀取』驗證健保卡/);
    assert.match(panelText(home), /連線失敗時請確認讀卡程式已啟動/);
    const form = readFormOf(home);
    assert.equal(form.action, `${agent.url}/v1/read`);
    assert.match(form.fields.req!, /^[A-Za-z0-9_-]{32}$/);
    assert.match(form.fields.challenge!, /^[A-Za-z0-9_-]{43,512}$/);
    assert.equal(form.fields.return, `${SERVER_ORIGIN}/card-reads/${form.fields.req}`);
    assert.equal(form.fields.lang, 'zh-TW');
    assert.equal(home.$('#card-panel-login form.card-read-form').attr('hx-post'), undefined, 'the read is a plain navigation');
    assert.notEqual(readFormOf(await browser.get('/')).fields.req, form.fields.req, 'each view carries its own request');
    assert.equal(await requestRow(form.fields.req!), undefined, 'a page view stores no request');

    await agent.insert(card.sim);
    const answer = await readAtAgent(form);
    assert.match(answer.html, /陳○玲/, 'the agent page shows the masked name');
    assert.ok(answer.fields.assertion);
    const back = await postBack(t.app, answer);
    assert.equal(back.status, 303);
    assert.equal(back.headers.location, `/card-reads/${form.fields.req}/claim`);
    assert.equal(back.headers['set-cookie'], undefined, 'the agent page gets no session');
    assert.equal((await requestRow(form.fields.req!)).state, 'verified');

    const page = await browser.get(back.headers.location!);
    assert.equal(page.url, '/');
    assert.equal(holder(page), '陳美玲');
    assert.equal(page.$('#card-panel-login form.card-read-form').length, 0);
    const row = await requestRow(form.fields.req!);
    assert.equal(row.state, 'claimed');
    assert.deepEqual(row.card, { cardNumber: card.sim.cardNumber, idNumber: card.sim.idNumber, name: '陳美玲' });

    // The binding is the SHA-256 of the browser's binding cookie, never the cookie.
    const db = t.services.orm.em.fork().getConnection();
    assert.match(String(row.binding_hash), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(JSON.stringify(browser.cookies()).includes(String(row.binding_hash)), false);

    // Audit: the read is recorded with the ID masked; no challenge, no assertion, no full ID number.
    const audit = await db.execute(`select action, outcome, subject, detail from audit_event where action like 'card_read.%' order by id`);
    const verify = audit.find((a) => a.action === 'card_read.verify' && a.outcome === 'success');
    assert.ok(verify);
    assert.equal(verify.subject, `${card.sim.idNumber.slice(0, 6)}****`);
    assert.ok(audit.some((a) => a.action === 'card_read.claim' && a.outcome === 'success'));
    const all = JSON.stringify(audit);
    for (const secret of [card.sim.idNumber, card.sim.cardNumber, form.fields.challenge!, answer.fields.assertion!]) assert.ok(!all.includes(secret));

    // 清除 without JS: 303 back, the name is gone and a new read can start.
    const clearForm = page.$('#card-panel-login form.card-clear-form');
    assert.equal(clearForm.attr('hx-post'), '/card-reads/clear');
    assert.equal(clearForm.attr('hx-target'), '#card-panel-login');
    assert.equal(clearForm.attr('hx-swap'), 'outerHTML');
    const fields = Object.fromEntries(clearForm.find('input').map((_i, el) => [[page.$(el).attr('name'), page.$(el).val()]]).get());
    const cleared = await browser.agent.post('/card-reads/clear').type('form').send(fields);
    assert.equal(cleared.status, 303);
    assert.equal(cleared.headers.location, '/');
    const afterClear = await browser.get('/');
    assert.equal(holder(afterClear), '');
    assert.equal(afterClear.$('#card-panel-login form.card-read-form').length, 1);

    // 清除 with HTMX: only the fresh panel comes back. The claim gives the session a new id and the browser a new binding.
    const sessionBefore = browser.cookies()['nhi.sid'];
    const bindingBefore = browser.cookies()['nhi.bind'];
    const tokenBefore = afterClear.$('#card-panel-login form.card-clear-form input[name=_csrf], form.login-form input[name=_csrf]').first().val() as string;
    assert.ok(sessionBefore);
    assert.ok(tokenBefore);
    const again = await readAndClaim(browser, card);
    assert.ok(browser.cookies()['nhi.sid']);
    assert.notEqual(browser.cookies()['nhi.sid'], sessionBefore, 'a new session id at the claim');
    assert.notEqual(browser.cookies()['nhi.bind'], bindingBefore, 'a new binding at the claim');
    const token = again.$('#card-panel-login form.card-clear-form input[name=_csrf]').val() as string;
    assert.notEqual(token, tokenBefore, 'a new CSRF token with the new identity');
    const stale = await browser.agent.post('/card-reads/clear').type('form').send({ _csrf: tokenBefore, purpose: 'login', return: '/' });
    assert.equal(stale.status, 403, 'the token of before the claim no longer works');
    assert.equal(holder(again), '陳美玲');
    const fragment = await browser.agent
      .post('/card-reads/clear')
      .set({ 'HX-Request': 'true', 'X-CSRF-Token': token })
      .type('form')
      .send({ purpose: 'login', return: '/' });
    assert.equal(fragment.status, 200);
    assert.doesNotMatch(fragment.text, /<html/i);
    assert.ok(fragment.text.trim().startsWith('<div id="card-panel-login"'));
    assert.doesNotMatch(fragment.text, /陳美玲/);
    assert.match(fragment.text, /請插入健保卡後，按『讀取』驗證健保卡/);
    assert.match(fragment.headers['vary'] ?? '', /HX-Request/);
    assert.equal(holder(await browser.get('/')), '');
  });

  test('twice in a row: read, 清除, read another card; the first claim link followed again changes nothing', async () => {
    const first = await insertTestCard(t.services, { name: '吳建宏' });
    const second = await insertTestCard(t.services, { name: '鄭雅婷', sex: 'F' });
    const browser = new BrowserAgent(t.app);
    const claimed = await readAndClaim(browser, first);
    assert.equal(holder(claimed), '吳建宏');
    const firstRequest = (await requestRowsOfState('claimed')).at(-1)!; // the newest claimed request is this read's

    await browser.submit({}, '#card-panel-login form.card-clear-form');
    const fresh = readFormOf(await browser.get('/'));
    assert.notEqual(fresh.fields.req, firstRequest, 'a new request after 清除');
    const again = await readAndClaim(browser, second);
    assert.equal(holder(again), '鄭雅婷');

    // The first read's claim link followed again (reload, back button) does not bring the first card back.
    await browser.get(`/card-reads/${firstRequest}/claim`);
    assert.equal(holder(await browser.get('/')), '鄭雅婷');
  });

  test('a claim from another browser is refused and burns the read: the browser that asked must read again', async () => {
    const card = await insertTestCard(t.services, { name: '林志明' });
    const owner = new BrowserAgent(t.app);
    const { form, answer } = await readCard(owner, card);
    const back = await postBack(t.app, answer);
    const claim = back.headers.location!;

    const other = new BrowserAgent(t.app);
    await other.get('/');
    const refused = await other.agent.get(claim);
    assert.equal(refused.status, 403);
    assert.match(refused.text, /這筆讀卡結果不屬於您目前的瀏覽階段/);
    assert.equal(holder(await other.get('/')), '');
    const row = await requestRow(form.fields.req!);
    assert.equal(row.state, 'failed');
    assert.equal(row.failure, 'claimed_elsewhere');

    // The owner is not handed a read someone else tried to take.
    await expectMessage(owner, await owner.get(claim), /曾被其他瀏覽器嘗試取用/);
    assert.equal(holder(await owner.get('/')), '');
    const noCookie = await request(t.app).get(claim);
    assert.equal(noCookie.status, 403);
  });

  test('a replayed assertion is refused with its message and changes nothing', async () => {
    const card = await insertTestCard(t.services);
    const browser = new BrowserAgent(t.app);
    const { form, answer } = await readCard(browser, card);
    assert.equal((await postBack(t.app, answer)).status, 303);
    const replay = await postBack(t.app, answer);
    assert.equal(replay.status, 400);
    assert.match(replay.text, /這筆讀卡結果已經使用過/);
    assert.equal((await requestRow(form.fields.req!)).state, 'verified');
    await browser.get(`/card-reads/${form.fields.req}/claim`);
    const again = await postBack(t.app, answer);
    assert.equal(again.status, 400, 'nor after the claim');
    assert.equal((await requestRow(form.fields.req!)).state, 'claimed');
  });

  test('an answer after the 5 minutes is refused as expired and stores nothing', async () => {
    const card = await insertTestCard(t.services);
    const browser = new BrowserAgent(t.app);
    const { form, answer } = await readCard(browser, card);
    t.clock.advance(5 * 60 * 1000 + 1000);
    const late = await postBack(t.app, answer);
    assert.equal(late.status, 400);
    assert.match(late.text, /讀卡已逾時/);
    assert.equal(late.headers.location, undefined);
    assert.equal(await requestRow(form.fields.req!), undefined);
  });

  test('an unknown request is refused; the CSRF exemption covers only the agent answer', async () => {
    const unknown = await request(t.app).post(`/card-reads/${randomBytes(24).toString('base64url')}`).type('form').send({ error: 'no_card' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /查無這筆讀卡要求/);
    const clear = await request(t.app).post('/card-reads/clear').type('form').send({ purpose: 'login', return: '/' });
    assert.equal(clear.status, 403, '清除 still needs the CSRF token');
  });

  /** Each refusal reaches the page that asked, through the claim, with its own message. */
  async function expectMessage(browser: BrowserAgent, page: Page, message: RegExp) {
    assert.equal(page.url, '/');
    assert.match(page.$('#card-panel-login .card-panel-error').text(), message);
    assert.equal(holder(page), '');
    // A one-time message: the next view no longer shows it.
    assert.equal((await browser.get('/')).$('.card-panel-error').length, 0);
  }

  test('an assertion for another audience is refused', async () => {
    const card = await insertTestCard(t.services);
    const browser = new BrowserAgent(t.app);
    const form = readFormOf(await browser.get('/'));
    const jws = await signCardAssertion({ privateKeySeed: card.seed, kid: `card:${card.sim.cardNumber}`, payload: payloadFor(card, form, { aud: 'http://evil.example' }) });
    await expectMessage(browser, await postAssertion(browser, form.fields.req!, jws), /讀卡資料不是為本網站產生的/);
    const row = await requestRow(form.fields.req!);
    assert.equal(row.state, 'failed');
    assert.equal(row.failure, 'wrong_audience');
  });

  test('a tampered payload fails the signature', async () => {
    const card = await insertTestCard(t.services);
    const browser = new BrowserAgent(t.app);
    const { form, answer } = await readCard(browser, card);
    const [header, payload, signature] = answer.fields.assertion!.split('.');
    const data = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    data.card.name = '王大明';
    const tampered = [header, Buffer.from(JSON.stringify(data)).toString('base64url'), signature].join('.');
    await expectMessage(browser, await postAssertion(browser, form.fields.req!, tampered), /讀卡資料驗證失敗/);
  });

  test('a card not in the registry and a registered card signed by another key get the same answer', async () => {
    const stranger = await insertTestCard(t.services, { inRegistry: false });
    const first = new BrowserAgent(t.app);
    await expectMessage(first, await readAndClaim(first, stranger), /讀卡資料驗證失敗/);

    const card = await insertTestCard(t.services);
    const browser = new BrowserAgent(t.app);
    const form = readFormOf(await browser.get('/'));
    const jws = await signCardAssertion({ privateKeySeed: generateSeed(), kid: `card:${card.sim.cardNumber}`, payload: payloadFor(card, form) });
    await expectMessage(browser, await postAssertion(browser, form.fields.req!, jws), /讀卡資料驗證失敗/);
  });

  test('a void card is refused', async () => {
    const card = await insertTestCard(t.services, { status: 'void' });
    const browser = new BrowserAgent(t.app);
    await expectMessage(browser, await readAndClaim(browser, card), /此健保卡已停用/);
  });

  test('a card whose data differs from the registry is refused', async () => {
    const card = await insertTestCard(t.services);
    await t.services.orm.em.fork().getConnection().execute(`update person set birth_date = '1981-01-31' where id_number = ?`, [card.sim.idNumber]);
    const browser = new BrowserAgent(t.app);
    await expectMessage(browser, await readAndClaim(browser, card), /健保卡資料與本署資料不符/);
  });

  test('an agent error (no card in the reader) shows its message', async () => {
    const browser = new BrowserAgent(t.app);
    const { answer } = await readCard(browser, null);
    assert.equal(answer.fields.error, 'no_card');
    const back = await postBack(t.app, answer);
    await expectMessage(browser, await browser.get(back.headers.location!), /讀卡機內沒有健保卡/);
  });

  test('a terminal-signed login read is refused like an unknown key, enrolled or not', async () => {
    const card = await insertTestCard(t.services, { name: '張小華' });
    const seed = generateSeed();
    const terminalId = `T-${randomBytes(4).toString('hex')}`;
    const refusedRead = async () => {
      const browser = new BrowserAgent(t.app);
      const form = readFormOf(await browser.get('/'));
      const jws = await signCardAssertion({ privateKeySeed: seed, kid: `terminal:${terminalId}`, payload: payloadFor(card, form) });
      await expectMessage(browser, await postAssertion(browser, form.fields.req!, jws), /讀卡資料驗證失敗/);
      assert.equal((await requestRow(form.fields.req!)).terminal_id, null);
    };

    await refusedRead();
    await t.services.readerTerminals.enroll({ terminalId, publicKey: cardKeyPairFromSeed(seed).publicKey, label: '臨櫃 1 號' });
    await assert.rejects(
      t.services.readerTerminals.enroll({ terminalId, publicKey: cardKeyPairFromSeed(seed).publicKey, label: 'again' }),
      /already enrolled/,
    );
    await refusedRead();
  });

  test('the panel shows the reader status: the script polls the agent, no JS frames it; the agent answers the poll', async () => {
    const home = await new BrowserAgent(t.app).get('/');
    const live = home.$('#card-panel-login .reader-status-live');
    assert.equal(live.attr('data-status-url'), `${agent.url}/v1/status`);
    assert.equal(live.attr('hx-get'), undefined, 'HTMX never swaps in what the agent port sends');
    assert.equal(live.attr('hx-disable'), '');
    assert.ok(home.html.includes(`<iframe class="reader-status-frame" src="${agent.url}/v1/status" title="讀卡機狀態"></iframe>`));
    assert.match(home.headers['content-security-policy'] ?? '', new RegExp(`connect-src 'self' ${agent.url.replace(/\./g, '\\.')}`));

    await agent.remove();
    const res = await fetch(`${agent.url}/v1/status`, { headers: { Accept: 'application/json', Origin: SERVER_ORIGIN } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), SERVER_ORIGIN);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const status = (await res.json()) as { reader: boolean; card: boolean };
    assert.equal(status.reader, true, '讀卡機已連接');
    assert.equal(status.card, false, '請插入健保卡');
  });

  test('the home page has the panel without JS, with HX-Request and in English', async () => {
    const plain = await new BrowserAgent(t.app).get('/');
    assert.equal(plain.$('#card-panel-login form.card-read-form button').text().trim(), '讀取');
    // Under `same-origin` a browser would send `Origin: null` with the read form, and the agent refuses that.
    assert.equal(plain.headers['referrer-policy'], 'origin-when-cross-origin');
    assert.equal((await request(t.app).get('/announcements')).headers['referrer-policy'], 'same-origin', 'other pages keep the strict policy');
    const hx = await request(t.app).get('/').set('HX-Request', 'true');
    assert.equal(hx.status, 200);
    assert.match(hx.text, /<div id="card-panel-login"/);
    const en = await new BrowserAgent(t.app).get('/?lang=en');
    assert.equal(en.$('#card-panel-login form.card-read-form button').text().trim(), 'Read');
    assert.equal(readFormOf(en).fields.lang, 'en');
    assert.match(en.$('#card-panel-login').text(), /Insert your NHI card and press “Read” to verify it/);
  });
});
