import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditEventSchema, type AuditEntry } from '../../src/platform/audit/index.js';
import { TAIPEI_NOON, useTestApp, type TestApp } from '../helpers/app.js';
import type { BrowserAgent, Page } from '../helpers/browser-agent.js';
import { staffBrowser } from '../helpers/staff.js';

const PERSON_ONE = 'A123456789';
/** Masked, the same as PERSON_ONE: A12345****. */
const PERSON_TWO = 'A123451234';

/** Writes one audit row at `at`, as the modules do. */
async function seed(t: TestApp, at: string, entry: AuditEntry): Promise<void> {
  t.clock.set(at);
  await t.services.audit.recordNow(t.services.orm.em.fork(), entry);
}

/** A logged-in staff member; the clock is back at "now" first, since staff sessions idle against it. */
async function loggedIn(t: TestApp, role: 'clerk' | 'supervisor' | 'admin' = 'supervisor') {
  t.clock.set(TAIPEI_NOON);
  return staffBrowser(t, role);
}

/** The URL the search form sends with JavaScript off (method GET): its fields as shown, with `fields` typed in. */
function formUrl(page: Page, fields: Record<string, string>): string {
  const form = page.$('form.audit-search-form');
  assert.equal(form.attr('method'), 'get');
  const values: Record<string, string> = {};
  form.find('input[name], select[name]').each((_i, el) => {
    const input = page.$(el);
    values[input.attr('name')!] = input.is('select') ? (input.find('option[selected]').attr('value') ?? '') : (input.val()?.toString() ?? '');
  });
  return `${form.attr('action')}?${new URLSearchParams({ ...values, ...fields }).toString()}`;
}

async function search(browser: BrowserAgent, fields: Record<string, string>): Promise<Page> {
  const form = await browser.get('/intranet/audit');
  return browser.get(formUrl(form, fields));
}

/** The rows of a results page, by column. */
function rows(page: Page) {
  return page
    .$('table.audit-table tbody tr')
    .toArray()
    .map((tr) => {
      const cell = (name: string) => page.$(tr).find(`td.audit-${name}`).text().trim();
      return { time: cell('time'), actor: cell('actor'), action: cell('action'), subject: cell('subject'), outcome: cell('outcome'), detail: cell('detail') };
    });
}

/** A download's bytes, exactly as sent. */
async function download(browser: BrowserAgent, url: string) {
  const res = await browser.agent
    .get(url)
    .buffer(true)
    .parse((stream, done) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => done(null, Buffer.concat(chunks)));
    });
  const bytes = res.body as Buffer;
  return { status: res.status, headers: res.headers as Record<string, string>, bytes, text: bytes.toString('utf8') };
}

/** RFC 4180 records (CRLF between them; quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') record.push(cell), (cell = '');
    else if (char === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      (record = []), (cell = ''), i++;
    } else assert.fail(`unquoted text at ${i}: ${JSON.stringify(text.slice(i, i + 20))}`);
  }
  assert.equal(cell + record.join(''), '', 'the file ends with a CRLF');
  return records;
}

describe('counter intranet: 稽核紀錄查詢 (audit log search)', () => {
  const t = useTestApp({ rateLimits: { login: { points: 1000, durationSeconds: 60 } } });

  test('a search by ID number shows that person’s rows only, and the address bar never holds the number', async () => {
    await seed(t, '2026-01-05T02:00:00Z', { actorType: 'citizen', action: 'test.person', person: PERSON_ONE, outcome: 'success', detail: { which: 'one' } });
    await seed(t, '2026-01-05T03:00:00Z', { actorType: 'citizen', action: 'test.person', person: PERSON_TWO, outcome: 'success', detail: { which: 'two' } });
    const { browser } = await loggedIn(t);
    const form = await browser.get('/intranet/audit');
    assert.notEqual(form.$('#person').attr('autofocus'), undefined, 'the ID number is the main field');

    const sent = await browser.agent.get(formUrl(form, { person: ` ${PERSON_ONE.toLowerCase()} ` }));
    assert.equal(sent.status, 303);
    const location = sent.headers.location as string;
    assert.doesNotMatch(location, /A123456789/i);
    assert.equal(new URL(location, 'http://x').searchParams.get('personKey'), t.services.audit.personKey(PERSON_ONE));
    assert.match(location, /^\/intranet\/audit\?/);

    const page = await browser.get(location);
    assert.equal(page.status, 200);
    assert.deepEqual(rows(page).map((row) => [row.subject, row.detail]), [['A12345****', 'which: one']]);
    assert.doesNotMatch(page.html, /A123456789/i, 'nor does the page');
    assert.equal(page.$('#person').val(), '', 'the number is not shown again');
    assert.equal(page.$('input[type="hidden"][name="personKey"]').val(), t.services.audit.personKey(PERSON_ONE), 'the next search keeps the person');
    assert.equal(page.$('.audit-person-active').length, 1);
    assert.doesNotMatch(page.$('a[href^="/intranet/audit/export.csv"]').attr('href')!, /A123456789/i);

    const other = await search(browser, { person: PERSON_TWO });
    assert.deepEqual(rows(other).map((row) => row.detail), ['which: two']);
  });

  test('a search by staff member shows what that staff member did, with the detail as text', async () => {
    await seed(t, '2026-01-06T01:00:00Z', { actorType: 'staff', actorId: 'alice.audit', action: 'test.staff', outcome: 'success', detail: { note: '<b>first</b>' } });
    await seed(t, '2026-01-06T02:00:00Z', { actorType: 'staff', actorId: 'alice.audit', action: 'test.staff', outcome: 'failure', clientAddress: '10.1.2.3' });
    await seed(t, '2026-01-06T03:00:00Z', { actorType: 'staff', actorId: 'bob.audit', action: 'test.staff', outcome: 'success' });
    await seed(t, '2026-01-06T04:00:00Z', { actorType: 'citizen', actorId: 'alice.audit', action: 'test.staff', outcome: 'success' });
    const { browser } = await loggedIn(t);
    const page = await search(browser, { staff: 'alice.audit' });
    assert.equal(page.status, 200);
    const found = rows(page);
    assert.deepEqual(found.map((row) => [row.actor, row.outcome]), [['櫃台人員 alice.audit', '失敗'], ['櫃台人員 alice.audit', '成功']], 'newest first');
    assert.equal(found[1]!.detail, 'note: <b>first</b>');
    assert.match(page.html, /note: &lt;b&gt;first&lt;\/b&gt;/, 'escaped, never markup');
    assert.equal(page.$('td.audit-client').first().text(), '10.1.2.3');
    assert.equal(page.$('#staff').val(), 'alice.audit', 'the criterion is shown');

    const failures = await search(browser, { staff: 'alice.audit', outcome: 'failure' });
    assert.equal(rows(failures).length, 1);
    assert.equal(failures.$('#outcome option[selected]').val(), 'failure');
  });

  test('an action is matched exactly, or by a prefix ending in a dot', async () => {
    for (const [index, action] of ['probe.open', 'probe.close', 'probe.open.more', 'probex.open', 'lk_a.one', 'lkXa.one'].entries()) {
      await seed(t, `2026-01-07T0${index}:00:00Z`, { actorType: 'system', action, outcome: 'success' });
    }
    const { browser } = await loggedIn(t);
    const form = await browser.get('/intranet/audit');
    assert.match(form.$('#action-hint').text(), /以「\.」結尾的前綴/, 'the hint says a prefix ends in a dot');
    const actions = async (action: string) => rows(await search(browser, { action })).map((row) => row.action);
    assert.deepEqual(await actions('probe.open'), ['probe.open']);
    assert.deepEqual(await actions('probe.'), ['probe.open.more', 'probe.close', 'probe.open']);
    assert.deepEqual(await actions('lk_a.'), ['lk_a.one'], 'an underscore is a character, not a wildcard');
    assert.deepEqual(await actions('probe'), [], 'no dot, no prefix');
  });

  test('dates are Taipei days, and the to-day is included up to its last minute', async () => {
    const marks: [string, string][] = [
      ['2026-01-09T15:59:59Z', 'day-before-from'], // 01-09 23:59:59 Taipei
      ['2026-01-09T16:00:00Z', 'from-midnight'], // 01-10 00:00 Taipei
      ['2026-01-15T15:59:00Z', 'to-last-minute'], // 01-15 23:59 Taipei
      ['2026-01-15T16:00:00Z', 'day-after-to'], // 01-16 00:00 Taipei
    ];
    for (const [at, mark] of marks) await seed(t, at, { actorType: 'system', action: 'range.check', outcome: 'success', detail: { mark } });
    const { browser } = await loggedIn(t);
    const page = await search(browser, { action: 'range.check', from: '2026-01-10', to: '2026-01-15' });
    const found = rows(page);
    assert.deepEqual(found.map((row) => row.detail), ['mark: to-last-minute', 'mark: from-midnight']);
    assert.equal(found[0]!.time, '民國115年1月15日 23:59:00');
    const untilOnly = await search(browser, { action: 'range.check', to: '2026-01-15' });
    assert.deepEqual(rows(untilOnly).map((row) => row.detail), ['mark: to-last-minute', 'mark: from-midnight', 'mark: day-before-from']);
    const oneDay = await search(browser, { action: 'range.check', from: '2026-01-16', to: '2026-01-16' });
    assert.deepEqual(rows(oneDay).map((row) => row.detail), ['mark: day-after-to']);
  });

  test('120 rows come 50, 50 and 20 a page, and the page links keep the criteria', async () => {
    // Three rows a second, so page boundaries fall inside rows of the same time (the id breaks the tie).
    for (let n = 0; n < 120; n++) {
      await seed(t, new Date(Date.parse('2026-01-20T00:00:00Z') + Math.floor(n / 3) * 1000).toISOString(), {
        actorType: 'system',
        action: 'page.check',
        outcome: 'success',
        detail: { n },
      });
    }
    await seed(t, '2026-01-20T00:00:30Z', { actorType: 'system', action: 'page.check', outcome: 'failure', detail: { n: 'other' } });
    const { browser } = await loggedIn(t);
    const numbers = (page: Page) => rows(page).map((row) => Number(row.detail.replace('n: ', '')));
    const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_v, i) => from - i);

    const first = await search(browser, { action: 'page.check', outcome: 'success' });
    assert.deepEqual(numbers(first), range(119, 70));
    assert.equal(first.$('a.audit-newer').length, 0, 'no previous page on the first');
    const next = first.$('a.audit-older').attr('href')!;
    assert.match(next, /action=page\.check/);
    assert.match(next, /outcome=success/);
    assert.match(first.$('a.audit-older').text(), /下一頁/);

    const second = await browser.get(next);
    assert.deepEqual(numbers(second), range(69, 20));
    assert.equal(second.$('#action').val(), 'page.check', 'the form still shows the criteria');
    const third = await browser.get(second.$('a.audit-older').attr('href')!);
    assert.deepEqual(numbers(third), range(19, 0));
    assert.equal(third.$('a.audit-older').length, 0, 'no next page on the last');

    const back = await browser.get(third.$('a.audit-newer').attr('href')!);
    assert.match(third.$('a.audit-newer').text(), /上一頁/);
    assert.deepEqual(numbers(back), range(69, 20));
    const start = await browser.get(back.$('a.audit-newer').attr('href')!);
    assert.deepEqual(numbers(start), range(119, 70));
    assert.equal(start.$('a.audit-newer').length, 0);
  });

  test('wrong criteria: a message beside each field and in the summary, what was typed kept, no results', async () => {
    const { browser } = await loggedIn(t);
    const badId = await search(browser, { person: 'B1234', staff: 'alice.audit' });
    assert.equal(badId.status, 400);
    assert.match(badId.$('#person-error').text(), /身分證號格式不正確/);
    assert.match(badId.$('.error-summary a[href="#person"]').text(), /身分證號格式不正確/);
    assert.equal(badId.$('#person').val(), 'B1234');
    assert.equal(badId.$('#staff').val(), 'alice.audit');
    assert.equal(badId.$('table.audit-table').length, 0);
    assert.match(badId.$('title').text(), /^錯誤：/);

    const badDates = await search(browser, { from: '2026-02-30', to: '2026-01-01', outcome: 'maybe' });
    assert.equal(badDates.status, 400);
    assert.match(badDates.$('#from-error').text(), /起日格式不正確/);
    assert.equal(badDates.$('#from').val(), '2026-02-30');
    assert.match(badDates.$('#outcome-error').text(), /請從清單中選擇/);
    assert.equal(badDates.$('.error-summary li').length, 2, 'a to-date is not compared with a from-date that is no date');

    const backwards = await search(browser, { from: '2026-01-10', to: '2026-01-09' });
    assert.equal(backwards.status, 400);
    assert.match(backwards.$('#to-error').text(), /迄日不可早於起日/);
    assert.match(backwards.$('.error-summary').text(), /迄日不可早於起日/);
    assert.equal(backwards.$('#to').val(), '2026-01-09');

    const malformed = await browser.get('/intranet/audit?to=15/01/2026');
    assert.equal(malformed.status, 400);
    assert.match(malformed.$('#to-error').text(), /迄日格式不正確/);

    const forgedKey = await browser.get('/intranet/audit?personKey=not-a-key');
    assert.equal(forgedKey.status, 400);
    assert.match(forgedKey.$('#person-error').text(), /身分證號條件無效/);

    const exported = await download(browser, '/intranet/audit/export.csv?from=2026-13-01');
    assert.equal(exported.status, 400, 'nor is anything exported');
    assert.match(exported.headers['content-type']!, /text\/html/);
  });

  test('the export is every matching row as formula-safe CSV for Excel, and is itself audited', async () => {
    const day = '2026-02-10';
    await seed(t, '2026-02-10T01:00:00Z', { actorType: 'staff', actorId: 'carol.audit', action: 'csv.plain', subject: 'Lin, "Tiger"', outcome: 'success', clientAddress: '10.0.0.9', detail: { note: 'a, "quoted" value' } });
    await seed(t, '2026-02-10T02:00:00Z', { actorType: 'staff', actorId: 'carol.audit', action: 'csv.formula', subject: "=cmd|' /C calc'!A0", outcome: 'success', clientAddress: '+1' });
    await seed(t, '2026-02-10T03:00:00Z', { actorType: 'system', actorId: '-1', action: '@SUM(1)', outcome: 'failure' });
    await seed(t, '2026-02-10T04:00:00Z', { actorType: 'citizen', action: 'csv.person', person: PERSON_ONE, outcome: 'success' });
    // AuditLog escapes control characters; a row written by other means (an old import) may still hold them.
    await t.services.orm.em.fork().insert(AuditEventSchema, {
      occurredAt: new Date('2026-02-10T05:00:00Z'),
      actorType: 'system',
      actorId: 'two\r\nlines',
      action: 'csv.raw',
      subject: '\tx',
      outcome: 'success',
    });
    const { browser, username } = await loggedIn(t);

    const page = await search(browser, { from: day, to: day });
    const href = page.$('a[href^="/intranet/audit/export.csv"]').attr('href')!;
    assert.equal(href, `/intranet/audit/export.csv?from=${day}&to=${day}`, 'the page links to the export of its criteria');
    assert.equal(rows(page).length, 5);

    const csv = await download(browser, href);
    assert.equal(csv.status, 200);
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(csv.headers['content-disposition'], 'attachment; filename="audit-20260302.csv"');
    assert.deepEqual([...csv.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with BOM');
    const records = parseCsv(csv.text.slice(1));
    assert.equal(records.length, 1 + 5, 'the header and one record a row');
    const [header, ...data] = records;
    assert.equal(header!.length, 9);
    assert.match(header![1]!, /時間.*Time/);
    assert.match(header![4]!, /動作 Action/);
    assert.ok(data.every((record) => record.length === 9));

    const byAction = Object.fromEntries(data.map((record) => [record[4], record]));
    assert.deepEqual(Object.keys(byAction), ['csv.raw', 'csv.person', "'@SUM(1)", 'csv.formula', 'csv.plain'], 'newest first');
    const plain = byAction['csv.plain']!;
    assert.deepEqual(plain.slice(1), ['2026-02-10 09:00:00', 'staff', 'carol.audit', 'csv.plain', 'Lin, "Tiger"', 'success', '10.0.0.9', '{"note":"a, \\"quoted\\" value"}']);
    assert.ok(csv.text.includes('"Lin, ""Tiger"""'), 'commas and quotes are quoted');
    assert.equal(byAction['csv.formula']![5], "'=cmd|' /C calc'!A0");
    assert.equal(byAction['csv.formula']![7], "'+1");
    assert.equal(byAction["'@SUM(1)"]![3], "'-1");
    assert.equal(byAction['csv.raw']![5], "'\tx");
    assert.equal(byAction['csv.raw']![3], 'two\r\nlines', 'a line break stays inside its quoted cell');
    assert.equal(byAction['csv.person']![5], 'A12345****');
    assert.ok(!csv.text.includes(PERSON_ONE), 'no full ID number in the file');

    const exports = await t.services.orm.em.fork().find(AuditEventSchema, { action: 'audit.export' });
    assert.equal(exports.length, 1);
    const [exported] = exports;
    assert.equal(exported!.actorType, 'staff');
    assert.equal(exported!.actorId, username);
    assert.equal(exported!.outcome, 'success');
    assert.deepEqual(exported!.detail, { from: day, to: day, rows: 5, capped: false });

    const again = await download(browser, href);
    assert.equal(parseCsv(again.text.slice(1)).length, 1 + 5, 'the export row is not of that day');
  });

  test('an export by ID number also moves the number out of the address, and finds that person only', async () => {
    const { browser, username } = await loggedIn(t);
    const sent = await browser.agent.get(`/intranet/audit/export.csv?person=${PERSON_TWO}&action=test.person`);
    assert.equal(sent.status, 303);
    assert.doesNotMatch(sent.headers.location as string, /A123451234/i);
    assert.match(sent.headers.location as string, /^\/intranet\/audit\/export\.csv\?personKey=[\w-]{43}&action=test\.person$/);
    const csv = await download(browser, sent.headers.location as string);
    const data = parseCsv(csv.text.slice(1)).slice(1);
    assert.deepEqual(data.map((record) => record[8]), ['{"which":"two"}']);
    const [exported] = await t.services.orm.em.fork().find(AuditEventSchema, { action: 'audit.export', actorId: username });
    assert.equal(exported!.detail!.personDigest, t.services.audit.personKey(PERSON_TWO));
    assert.equal(exported!.subjectKey, null, 'the export row is not itself about the person');
  });

  test('a clerk may neither search nor export; supervisors and admins may', async () => {
    const { browser: clerk } = await loggedIn(t, 'clerk');
    const page = await clerk.get('/intranet/audit');
    assert.equal(page.status, 403);
    assert.match(page.$('main').text(), /無此作業權限/);
    const exported = await download(clerk, '/intranet/audit/export.csv');
    assert.equal(exported.status, 403);
    assert.match(exported.headers['content-type']!, /text\/html/, 'the reason, not a file');
    assert.equal(exported.headers['content-disposition'], undefined);
    const redirected = await clerk.agent.get(`/intranet/audit?person=${PERSON_ONE}`);
    assert.equal(redirected.status, 403, 'not even the person key is computed for a clerk');
    assert.equal((await clerk.get('/intranet')).$('a[href="/intranet/audit"]').length, 0, 'nor offered in the menu');

    const { browser: admin } = await loggedIn(t, 'admin');
    assert.equal((await admin.get('/intranet/audit')).status, 200);
    const nothing = await download(admin, '/intranet/audit/export.csv?action=none.such');
    assert.equal(nothing.status, 200);
    assert.equal(parseCsv(nothing.text.slice(1)).length, 1, 'only the header');
    const everything = await download(admin, '/intranet/audit/export.csv');
    assert.ok(parseCsv(everything.text.slice(1)).length > 100, 'no criteria: the whole log');
  });

  test('in English', async () => {
    const { browser } = await loggedIn(t);
    const page = await browser.get('/intranet/audit?lang=en');
    assert.equal(page.status, 200);
    assert.match(page.$('h1').text(), /Audit log/);
    assert.match(page.$('label[for="person"]').text(), /ID number/);
    assert.match(page.$('label[for="staff"]').text(), /Staff username/);
    assert.match(page.$('#action-hint').text(), /prefix ending in “\.”/);
    assert.match(page.$('label[for="from"]').text(), /From date/);
    assert.match(page.$('label[for="to"]').text(), /To date/);
    assert.match(page.$('#outcome option[value="refused"]').text(), /Refused/);
    assert.match(page.$('table.audit-table th').first().text(), /Time/);
    assert.doesNotMatch(page.$('main').text(), /[\u4e00-\u9fff]/, 'no Chinese left on the page');
    const wrong = await search(browser, { person: 'nope', from: '2026-01-02', to: '2026-01-01' });
    assert.match(wrong.$('#person-error').text(), /Not an ID number/);
    assert.match(wrong.$('.error-summary').text(), /The to date cannot be before the from date/);
  });
});

describe('counter intranet: a very large audit export', () => {
  const t = useTestApp();

  test('stops at 100,000 rows and says so in its last line', async () => {
    // Bulk rows straight into the table: 100,005 writes through the ORM would take minutes.
    await t.services.orm.em
      .fork()
      .getConnection()
      .execute(
        `insert into audit_event (occurred_at, actor_type, action, outcome, detail)
         select timestamptz '2025-06-01 00:00:00+00' + make_interval(secs => n), 'system', 'bulk.fill', 'success', jsonb_build_object('n', n)
         from generate_series(1, 100005) as n`,
      );
    const { browser } = await loggedIn(t);
    const csv = await download(browser, '/intranet/audit/export.csv?action=bulk.fill');
    assert.equal(csv.status, 200);
    const records = parseCsv(csv.text.slice(1));
    assert.equal(records.length, 1 + 100_000 + 1);
    assert.deepEqual(records[1]![8], '{"n":100005}', 'newest first');
    assert.deepEqual(records.at(-2)![8], '{"n":6}', 'the 100,000th');
    assert.equal(records.at(-1)!.length, 1);
    assert.match(records.at(-1)![0]!, /已達匯出上限 100,000 筆.*Capped at 100,000 rows/);
    const [exported] = await t.services.orm.em.fork().find(AuditEventSchema, { action: 'audit.export' });
    assert.deepEqual(exported!.detail, { action: 'bulk.fill', rows: 100_000, capped: true });
  });
});
