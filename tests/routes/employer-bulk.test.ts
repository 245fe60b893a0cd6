import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard, readInto, testIdNumber, type TestCard } from '../helpers/card-reads.js';
import { linkIn } from '../helpers/flows.js';
import { asFile, citizenLogIn, csvText, enrol, registeredPerson, unitWithStaff, upload, ZH_HEADER, type Cells } from '../helpers/employers.js';
import { TestSmtpServer } from '../helpers/smtp.js';

/** An ID number with a wrong check digit. */
const wrongCheckDigit = (id: string) => `${id.slice(0, 9)}${(Number(id[9]) + 1) % 10}`;

/** The 20 rows of the acceptance test: five good ones and one of each way a row is refused. */
async function twentyRows(t: TestApp, unit: string) {
  const person = async (options: { name?: string; status?: 'valid' | 'void' } = {}) => insertTestCard(t.services, options);
  const good = [await person({ name: '林一' }), await person({ name: '林二' }), await person({ name: '林三' }), await person({ name: '林四' }), await person({ name: '林五' })];
  const [noName, badBirth, badEmail, badMobile, notInsured, otherUnit, nameMismatch, birthMismatch, formula] = await Promise.all(
    ['黃一', '黃二', '黃三', '黃四', '黃五', '黃六', '張三', '黃八', '黃九'].map((name) => person({ name })));
  const voidCard = await person({ name: '黃十', status: 'void' });
  const registered = (await registeredPerson(t, { name: '吳已註冊' })).card;
  const suspended = (await registeredPerson(t, { name: '吳已停用' })).card;
  await t.services.orm.em.fork().getConnection().execute(`update registration set state = 'suspended' where id_number = ?`, [suspended.sim.idNumber]);
  const pending = await person({ name: '吳待認證' });
  await t.services.api.registration.service.apply({
    identity: { idNumber: pending.sim.idNumber, cardNumber: pending.sim.cardNumber, name: pending.sim.name, birthDate: pending.sim.birthDate },
    password: 'Online#2026', contacts: { email: 'online@example.com.tw' }, locale: 'zh-TW', clientAddress: '127.0.0.1',
  });
  await enrol(t, [...good, noName, badBirth, badEmail, badMobile, nameMismatch, birthMismatch, formula, voidCard, registered, suspended, pending].map((c) => c.sim.idNumber), { unitCode: unit });
  await enrol(t, [notInsured.sim.idNumber], { unitCode: unit, insured: false });
  await enrol(t, [otherUnit.sim.idNumber], { unitCode: '87654321' });
  const mail = (c: TestCard) => `e${c.sim.idNumber.toLowerCase()}@example.com.tw`;
  const row = (c: TestCard, over: Partial<{ id: string; name: string; birth: string; email: string; mobile: string }> = {}): Cells =>
    [over.id ?? c.sim.idNumber, over.name ?? c.sim.name, over.birth ?? '0690131', over.email ?? mail(c), over.mobile ?? '0912345678'];
  const cases: [Cells, string][] = [
    [row(good[0]!), ''],
    [row(good[1]!, { name: ` ${good[1]!.sim.name} ` }), ''],
    [row(good[2]!, { mobile: '' }), ''],
    [[testIdNumber().slice(0, 9) + 'X', '某甲', '0690131', 'x@example.com.tw', ''], 'id_number'],
    [row(good[0]!, { email: 'again@example.com.tw' }), 'duplicate'],
    [row(noName, { name: '' }), 'name'],
    [row(badBirth, { birth: '0691341' }), 'birth_date'],
    [row(badEmail, { email: 'not-an-address' }), 'email'],
    [row(badMobile, { mobile: '12345' }), 'mobile'],
    [row(notInsured), 'not_insured'],
    [row(otherUnit), 'not_insured'],
    [row(nameMismatch, { name: '張四' }), 'mismatch'],
    [row(birthMismatch, { birth: '0700131' }), 'mismatch'],
    [row(voidCard), 'no_card'],
    [row(registered), 'registered'],
    [row(pending), 'pending'],
    [row(formula, { name: '=HYPERLINK("http://evil.example","x")' }), 'mismatch'],
    [row(good[3]!, { birth: '69/01/31' }), ''],
    [row(good[4]!, { birth: '1980-01-31', id: good[4]!.sim.idNumber.toLowerCase() }), ''],
    [row(suspended), 'registered'],
  ];
  const id = wrongCheckDigit(testIdNumber());
  cases[3]![0][0] = id;
  return { rows: cases.map(([cells]) => cells), reasons: cases.map(([, reason]) => reason), good };
}

const REASON_TEXT: Record<string, string> = {
  id_number: '身分證號錯誤', duplicate: '檔案內身分證號重複', name: '未填姓名', birth_date: '出生日期格式錯誤', email: 'E-Mail 格式不正確',
  mobile: '行動電話格式不正確', not_insured: '非本投保單位在保之保險對象', mismatch: '姓名或出生日期與本署資料不符', no_card: '查無有效之健保卡',
  registered: '已完成健保卡網路服務註冊', pending: '已申請註冊，尚未完成認證（可於網站重寄認證信）',
};

describe('employer bulk registration', () => {
  const smtp = new TestSmtpServer();
  let t: TestApp;
  before(async () => {
    await smtp.start(0);
    t = await buildTestApp({ env: { SMTP_URL: smtp.url }, rateLimits: { login: { points: 1000, durationSeconds: 60 }, accountSteps: { points: 1000, durationSeconds: 60 } } });
  });
  after(async () => {
    await t?.close();
    await smtp.stop();
  });

  test('a 20-row file mixing every reject reason gives exactly the expected results on screen and in the mailed result file', async () => {
    const { unit, clerk } = await unitWithStaff(t);
    const { rows, reasons, good } = await twentyRows(t, unit);
    const browser = await citizenLogIn(t, clerk.card);
    const menu = await browser.get('/employer');
    assert.equal(menu.url, `/employer/units/${unit}`);
    const form = await browser.get(`/employer/units/${unit}/uploads/new`);
    assert.equal(form.$('.clerk-name').text(), '陳承辦', 'the clerk is filled in');
    assert.equal(form.$('.clerk-email').text(), clerk.email);

    const queued = await upload(browser, unit, await asFile(rows, 'big5'), '員工名冊.csv');
    assert.match(queued.url, /^\/employer\/uploads\/[0-9a-f-]{36}$/, `${queued.status} ${queued.$('main').text()}`);
    assert.match(queued.$('.upload-state').text(), /等待處理|處理中/);
    assert.ok(queued.html.includes('<noscript><meta http-equiv="refresh" content="3"></noscript>'), 'without JS the page reloads itself');
    const poll = await browser.get(queued.url, { 'HX-Request': 'true', 'HX-Target': 'upload-progress' });
    assert.equal(poll.$('#upload-progress[hx-trigger="every 2s"]').length, 1, 'with JS the progress box polls');

    await t.services.jobs.runOnce();
    const done = await browser.get(queued.url);
    assert.equal(done.$('.upload-state').text(), '處理完成');
    assert.match(done.$('.upload-counts').text(), /已處理 20 \/ 20 筆（成功 5，失敗 15）/);
    assert.ok(!done.html.includes('http-equiv="refresh"'), 'a finished page stays');
    const onScreen = done.$('.result-table tbody tr').map((_i, tr) => done.$(tr).find('.row-reason').text()).get();
    assert.deepEqual(onScreen, reasons.map((r) => (r ? REASON_TEXT[r] : '')));
    assert.ok(done.html.includes('=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;)'), 'the formula is shown as text, escaped');
    const finished = await browser.get(queued.url, { 'HX-Request': 'true', 'HX-Target': 'upload-progress' });
    assert.equal(finished.headers['hx-refresh'], 'true', 'a finished poll reloads the page');
    const rejected = await browser.get(`${queued.url}?result=rejected`);
    assert.equal(rejected.$('.result-table tbody tr').length, 15);

    // The result file: the download and the mail's attachment are the same Big5 CSV, every row with 結果,原因.
    const download = await browser.agent.get(`${queued.url}/result`).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    assert.match(download.headers['content-type'] ?? '', /big5/);
    const table = parse(iconv.decode(download.body as Buffer, 'big5')) as string[][];
    assert.deepEqual(table[0], [...ZH_HEADER, '結果', '原因']);
    assert.equal(table.length, 21);
    for (let i = 0; i < 20; i++) assert.deepEqual(table[i + 1]!.slice(5), [reasons[i] ? '失敗' : '成功', reasons[i] ? REASON_TEXT[reasons[i]!]! : ''], `row ${i + 2}`);
    assert.equal(table[17]![1], `'=HYPERLINK("http://evil.example","x")`, 'the formula cell is escaped in the file');

    await t.services.mailWorker.runOnce();
    const resultMail = smtp.messages.find((m) => m.to.includes(clerk.email) && /整批註冊申請上傳結果/.test(m.subject));
    assert.ok(resultMail, 'the result mail reached the clerk');
    assert.match(resultMail.text, /總筆數：20\s+成功：5\s+失敗：15/);
    assert.equal(resultMail.attachments.length, 1);
    assert.deepEqual(resultMail.attachments[0]!.content, download.body, 'the attachment is the result file');

    // Each accepted employee: the 認證信's link, their card, a new password twice → 認證成功; then card + password log in.
    for (const employee of good) {
      const mail = smtp.messages.find((m) => m.to.includes(`e${employee.sim.idNumber.toLowerCase()}@example.com.tw`) && /認證/.test(m.subject));
      assert.ok(mail, `the 認證信 reached ${employee.sim.name}`);
      const person = new BrowserAgent(t.app);
      assert.equal((await person.get(linkIn(mail.text))).url, '/register/activate');
      await readInto(t, person, employee, 'activate');
      const activated = await person.submit({ password: 'Bulk#2026ok', passwordConfirm: 'Bulk#2026ok' }, 'form[action="/register/activate"]');
      assert.match(activated.$('main').text(), /認證成功/);
      await citizenLogIn(t, employee, 'Bulk#2026ok');
    }
    assert.equal(smtp.messages.filter((m) => /認證/.test(m.subject) && !/上傳結果/.test(m.subject)).length >= 5, true);
  });

  test('the same rows as Big5 CSV, UTF-8 CSV with BOM and .xlsx give identical results', async () => {
    const { unit, clerk } = await unitWithStaff(t);
    const browser = await citizenLogIn(t, clerk.card);
    const outcomes: string[][] = [];
    for (const form of ['big5', 'utf-8-bom', 'xlsx'] as const) {
      // Fresh people each time: an accepted row registers its person, so the next file would say 'pending'.
      const { rows } = await twentyRows(t, unit);
      const page = await upload(browser, unit, await asFile(rows, form), form === 'xlsx' ? '名冊.xlsx' : `名冊-${form}.csv`);
      assert.match(page.url, /^\/employer\/uploads\//, page.$('.error-summary').text());
      await t.services.jobs.runOnce();
      const done = await browser.get(page.url);
      outcomes.push(done.$('.result-table tbody tr').map((_i, tr) => `${done.$(tr).find('.row-result').text()}:${done.$(tr).find('.row-reason').text()}`).get());
    }
    assert.equal(outcomes[0]!.length, 20);
    assert.deepEqual(outcomes[1], outcomes[0]);
    assert.deepEqual(outcomes[2], outcomes[0]);
  });

  test('bad files are refused with a clear message beside the field, and nothing is saved', async () => {
    const { unit, clerk } = await unitWithStaff(t);
    const browser = await citizenLogIn(t, clerk.card);
    const count = async () => Number((await t.services.orm.em.fork().getConnection().execute('select count(*)::int as n from bulk_upload'))[0].n);
    const before = await count();
    const uploadsDir = join(t.dataDir, 'uploads');
    const filesBefore = existsSync(uploadsDir) ? readdirSync(uploadsDir).length : 0;
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const mixed = Buffer.concat([Buffer.from(csvText([['A123456789', '王小明', '0690131', 'a@example.com.tw', '']]), 'utf8'), iconv.encode('A123456789,陳美玲,0690131,b@example.com.tw,\r\n', 'big5')]);
    const tooMany = `${ZH_HEADER.join(',')}\r\n${'A123456789,王小明,0690131,a@example.com.tw,0912345678\r\n'.repeat(100_001)}`;
    const cases: [string, Buffer, string, RegExp][] = [
      ['an empty file', Buffer.alloc(0), 'empty.csv', /檔案沒有資料列/],
      ['a header only', Buffer.from(`${ZH_HEADER.join(',')}\r\n`), 'header.csv', /檔案沒有資料列/],
      ['an unknown header', Buffer.from('編號,名字\r\n1,王\r\n'), 'other.csv', /欄位名稱無法辨識（讀到：編號, 名字）；請使用：身分證號,姓名,出生日期,E-Mail,行動電話/],
      ['a picture named .csv', png, 'photo.csv', /檔案不是 CSV 或 Excel/],
      ['mixed encodings', mixed, 'mixed.csv', /混用了不同編碼/],
      ['100,001 rows', Buffer.from(tooMany), 'big.csv', /檔案超過 100,000 筆上限/],
    ];
    for (const [what, file, name, message] of cases) {
      const page = await upload(browser, unit, file, name);
      assert.equal(page.status, 400, what);
      assert.match(page.$('#file-error').text(), message, what);
      assert.match(page.$('.error-summary').text(), message, what);
    }
    const none = await browser.get(`/employer/units/${unit}/uploads/new`);
    const res = await browser.agent.post(`/employer/units/${unit}/uploads`).field('_csrf', none.$('input[name="_csrf"]').val() as string);
    assert.equal(res.status, 400, 'no file chosen');
    assert.equal(await count(), before, 'no upload row');
    assert.equal(existsSync(uploadsDir) ? readdirSync(uploadsDir).length : 0, filesBefore, 'no file kept');
  });

  test('a file over the size limit is refused, and a post without the form token keeps nothing', async () => {
    const small = await buildTestApp({ env: { UPLOAD_MAX_MB: '1' }, rateLimits: { login: { points: 1000, durationSeconds: 60 } } });
    try {
      const { unit, clerk } = await unitWithStaff(small);
      const browser = await citizenLogIn(small, clerk.card);
      const page = await upload(browser, unit, Buffer.alloc(1024 * 1024 + 10, 'a'), 'huge.csv');
      assert.equal(page.status, 413);
      assert.match(page.$('#file-error').text(), /檔案超過 1 MB 上限/);
      const forged = await browser.agent.post(`/employer/units/${unit}/uploads`).field('_csrf', 'forged').attach('file', Buffer.from('x'), 'x.csv');
      assert.equal(forged.status, 403);
      const dir = join(small.dataDir, 'uploads');
      assert.equal(existsSync(dir) ? readdirSync(dir).length : 0, 0);
    } finally {
      await small.close();
    }
  });

  test('a clerk without the upload role gets 403 and the page says why; a clerk sees only their own uploads, the admin every one', async () => {
    const { unit, admin, clerk } = await unitWithStaff(t);
    const other = await registeredPerson(t, { name: '周另一位' });
    const queryOnly = await registeredPerson(t, { name: '鄭只查詢' });
    const access = t.services.api.employers.access;
    for (const role of ['upload', 'query'] as const) await access.grant({ unitCode: unit, idNumber: other.card.sim.idNumber, role, by: admin.card.sim.idNumber, clientAddress: '127.0.0.1' });
    await access.grant({ unitCode: unit, idNumber: queryOnly.card.sim.idNumber, role: 'query', by: admin.card.sim.idNumber, clientAddress: '127.0.0.1' });
    const { rows } = await twentyRows(t, unit);
    const clerkBrowser = await citizenLogIn(t, clerk.card);
    const mine = await upload(clerkBrowser, unit, await asFile(rows.slice(0, 3), 'utf-8'), 'mine.csv');

    const limited = await citizenLogIn(t, queryOnly.card);
    const refused = await limited.get(`/employer/units/${unit}/uploads/new`);
    assert.equal(refused.status, 403);
    assert.match(refused.$('main').text(), /您沒有「健保卡註冊上傳」權限，請洽投保單位管理者於「角色管理」授權/);
    const posted = await limited.agent.post(`/employer/units/${unit}/uploads`).field('_csrf', 'x').attach('file', Buffer.from('x'), 'x.csv');
    assert.equal(posted.status, 403);
    assert.equal((await limited.get(`/employer/units/${unit}/roles`)).status, 403, 'only the admin manages roles');

    const otherBrowser = await citizenLogIn(t, other.card);
    assert.equal((await otherBrowser.get(mine.url)).status, 403, "another clerk cannot open this clerk's upload");
    const otherLog = await otherBrowser.get(`/employer/units/${unit}/uploads`);
    assert.equal(otherLog.$('.upload-table tbody tr').length, 0, "nor see it in the log");
    const adminBrowser = await citizenLogIn(t, admin.card);
    assert.equal((await adminBrowser.get(mine.url)).status, 200, 'the admin can');
    const adminLog = await adminBrowser.get(`/employer/units/${unit}/uploads`);
    assert.ok(adminLog.$('.upload-table tbody tr').length >= 1);
    assert.match(adminLog.$('.upload-table').text(), /mine\.csv/);
    const stranger = await citizenLogIn(t, (await registeredPerson(t, { name: '外人' })).card);
    assert.equal((await stranger.get(`/employer/units/${unit}`)).status, 403);
    assert.match((await stranger.get('/employer')).$('main').text(), /您目前不是任何投保單位的管理者或承辦人/);
  });

  test('角色管理: the admin grants and revokes roles by ID number, with audit rows; an unregistered person is refused', async () => {
    const { unit, admin } = await unitWithStaff(t);
    const newcomer = await registeredPerson(t, { name: '蔡新人' });
    const browser = await citizenLogIn(t, admin.card);
    await browser.get(`/employer/units/${unit}/roles`);
    const unknown = await browser.submit({ idNumber: testIdNumber(), role: 'upload' }, 'form.role-grant-form');
    assert.equal(unknown.status, 400);
    assert.match(unknown.$('#idNumber-error').text(), /尚未完成健保卡網路服務註冊/);
    const granted = await browser.submit({ idNumber: newcomer.card.sim.idNumber.toLowerCase(), role: 'upload' }, 'form.role-grant-form');
    assert.match(granted.$('main .notice').text(), /已授權/);
    assert.match(granted.$('.clerk-table').text(), /健保卡註冊上傳/);
    const newcomerBrowser = await citizenLogIn(t, newcomer.card);
    assert.equal((await newcomerBrowser.get(`/employer/units/${unit}/uploads/new`)).status, 200);
    const revoked = await browser.submit({}, `form.role-revoke-form:has(input[value="${newcomer.card.sim.idNumber}"])`);
    assert.match(revoked.$('main .notice').text(), /已取消授權/);
    assert.equal((await newcomerBrowser.get(`/employer/units/${unit}/uploads/new`)).status, 403);
    const audit = await t.services.orm.em.fork().getConnection().execute(`select action from audit_event where subject_key = ? order by id`, [t.services.audit.personKey(newcomer.card.sim.idNumber)]);
    assert.deepEqual(audit.map((a) => String(a.action)).filter((a) => a.startsWith('employer.')), ['employer.role_grant', 'employer.role_revoke']);
  });

  test('an upload finished more than UPLOAD_KEEP_DAYS (90) ago goes, with its rows and files; a newer one stays', async () => {
    const { unit, clerk } = await unitWithStaff(t);
    const browser = await citizenLogIn(t, clerk.card);
    const { rows } = await twentyRows(t, unit);
    const startedAt = t.clock.now();
    const old = await upload(browser, unit, await asFile(rows.slice(0, 2), 'utf-8'), 'old.csv');
    await t.services.jobs.runOnce();
    t.clock.advance(60 * 24 * 60 * 60 * 1000);
    // Two months on, the clerk logs in again.
    const recent = await upload(await citizenLogIn(t, clerk.card), unit, await asFile(rows.slice(2, 4), 'utf-8'), 'recent.csv');
    await t.services.jobs.runOnce();
    t.clock.advance(31 * 24 * 60 * 60 * 1000);
    const uploads = t.services.api.employers.uploads;
    const [oldUpload, recentUpload] = [await uploads.find(old.url.split('/').pop()!), await uploads.find(recent.url.split('/').pop()!)];
    assert.ok(oldUpload && recentUpload && existsSync(uploads.resultPath(oldUpload)));
    try {
      await t.services.orm.em.fork().transactional((em) => t.services.jobs.add(em, 'bulk-uploads-cleanup', {}));
      await t.services.jobs.runOnce();
      assert.equal(await uploads.find(oldUpload.id), null);
      assert.equal((await uploads.rows(oldUpload.id, { limit: 10 })).length, 0, 'its rows (ID numbers, e-mails) are gone');
      assert.ok(!existsSync(join(uploads.dir, oldUpload.storedName)) && !existsSync(uploads.resultPath(oldUpload)), 'and its files');
      assert.ok(await uploads.find(recentUpload.id), 'the newer upload stays');
      assert.equal((await uploads.rows(recentUpload.id, { limit: 10 })).length, 2);
    } finally {
      t.clock.set(startedAt);
    }
  });

  test('a file that no longer reads as it did when taken in fails its upload, instead of retrying for ever', async () => {
    const { unit, clerk } = await unitWithStaff(t);
    const browser = await citizenLogIn(t, clerk.card);
    const { rows } = await twentyRows(t, unit);
    const page = await upload(browser, unit, await asFile(rows.slice(0, 3), 'utf-8'), 'changed.csv');
    const uploads = t.services.api.employers.uploads;
    const taken = (await uploads.find(page.url.split('/').pop()!))!;
    writeFileSync(join(uploads.dir, taken.storedName), Buffer.from('89504e470d0a1a0a', 'hex'));
    await t.services.jobs.runOnce();
    const failed = await browser.get(page.url);
    assert.equal(failed.$('.upload-state').text(), '處理失敗');
    assert.equal((await uploads.find(taken.id))!.failure, 'file_not_a_table');
    assert.equal(failed.$('.result-table').length, 0);
  });
});

