import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnouncementService } from '../../src/modules/announcements/index.js';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent, type Page } from '../helpers/browser-agent.js';
import { staffBrowser, staffLogIn } from '../helpers/staff.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LIST = '/intranet/announcements';
const HOSTILE = '<img src=x onerror=alert(1)> hx-get="/logout"';
const HOSTILE_ESCAPED = '&lt;img src=x onerror=alert(1)&gt; hx-get=&quot;/logout&quot;';

/** The moment as staff type it: Taipei local time (UTC+8), to the minute. */
function taipeiText(at: Date, separator = '-'): string {
  const local = new Date(at.getTime() + 8 * HOUR).toISOString();
  return `${local.slice(0, 10).replaceAll('-', separator)} ${local.slice(11, 16)}`;
}

/** The same moment cut to the minute, as the form stores it. */
const toMinute = (at: Date) => new Date(Math.floor(at.getTime() / MINUTE) * MINUTE);

// 公告管理: supervisors and admins write the home page's 最新公告 and marquee.
describe('counter intranet: announcements (公告管理)', () => {
  const t = useTestApp({ rateLimits: { login: { points: 1000, durationSeconds: 60 } } });
  const announcements = () => t.services.api.announcements.announcements;
  const now = () => t.clock.now();

  /** The public home page, as a citizen's browser (its own language cookie) sees it. */
  const home = (lang?: 'en') => new BrowserAgent(t.app).get(lang ? `/?lang=${lang}` : '/');
  const listed = (page: Page) => page.$('#announcements .announcement-list').text();
  const inMarquee = (page: Page) => page.$('.marquee').text();

  /** Fills 新增公告 with JavaScript off; the browser is then on the list (or the form, refused). */
  async function create(browser: BrowserAgent, fields: Record<string, string>): Promise<Page> {
    await browser.get(`${LIST}/new`);
    return browser.submit({ publishUntil: '', ...fields }, 'form.announcement-form');
  }

  async function idOf(titleZh: string): Promise<number> {
    const found = (await announcements().list()).find((a) => a.titleZh === titleZh);
    assert.ok(found, `announcement "${titleZh}" was saved`);
    return found.id;
  }

  async function auditRows(subject: string) {
    return (await t.services.audit.recent(t.services.orm.em, { limit: 200 })).filter((row) => row.subject === subject);
  }

  test('a supervisor creates a bilingual announcement in force now with marquee: the home page shows it at once, in English too', async () => {
    const { browser, username } = await staffBrowser(t, 'supervisor');
    const menu = await browser.get('/intranet');
    assert.equal(menu.$(`.service-menu a[href="${LIST}"]`).length, 1, 'the menu offers 公告管理');
    const form = await browser.get(`${LIST}/new`);
    assert.notEqual(form.$('#titleZh').attr('autofocus'), undefined, 'the Chinese title has the focus');
    assert.equal(form.$('#publishFrom').val(), taipeiText(now()), '公告開始 starts as now, Taipei time');
    assert.match(form.$('#publishFrom-hint').text(), /臺北時間/);
    assert.equal(form.$('textarea#bodyZh').length, 1);

    const started = now();
    const page = await browser.submit(
      { titleZh: '三月系統維護', titleEn: 'March maintenance', bodyZh: '3月8日凌晨暫停服務。', bodyEn: 'No service early on 8 March.', marquee: 'on', publishFrom: taipeiText(started) },
      'form.announcement-form',
    );
    assert.equal(page.status, 200);
    assert.equal(page.url, LIST);
    assert.match(page.$('.notice[role="status"]').text(), /公告已新增/);
    const id = await idOf('三月系統維護');
    const row = page.$(`#announcement-${id}`);
    assert.equal(row.find('.title-zh').text(), '三月系統維護');
    assert.equal(row.find('.title-en').text(), 'March maintenance');
    assert.equal(row.find('.state').text(), '公告中');
    assert.equal(row.find('.marquee').text(), '是');
    assert.equal(row.find('.created-by').text(), username);
    assert.match(row.find('.period .from').text(), /^民國115年3月2日 \d\d:\d\d:00$/);
    assert.equal(row.find('.period .until').text(), '未設定結束');
    assert.equal(row.find(`a.edit-link[href="${LIST}/${id}/edit"]`).length, 1);
    assert.equal(page.$(`a[href="${LIST}/new"]`).text(), '新增公告');
    assert.equal((await browser.get(LIST)).$('.notice[role="status"]').length, 0, 'the notice is shown once');

    const stored = (await announcements().find(id))!;
    assert.equal(stored.publishFrom.toISOString(), toMinute(started).toISOString(), 'Taipei time stored as the same moment in UTC');
    assert.equal(stored.publishUntil, null);

    const zh = await home();
    assert.match(listed(zh), /三月系統維護/);
    assert.match(listed(zh), /3月8日凌晨暫停服務。/);
    assert.match(inMarquee(zh), /三月系統維護/);
    const en = await home('en');
    assert.match(listed(en), /March maintenance/);
    assert.match(listed(en), /No service early on 8 March\./);
    assert.match(inMarquee(en), /March maintenance/);
    assert.doesNotMatch(listed(en), /三月系統維護/);

    const audit = await auditRows(`announcement:${id}`);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.action, 'announcement.create');
    assert.equal(audit[0]!.actorType, 'staff');
    assert.equal(audit[0]!.actorId, username);
    assert.equal(audit[0]!.outcome, 'success');
    assert.deepEqual(audit[0]!.detail, { titleZh: '三月系統維護' });
  });

  test('an announcement scheduled for tomorrow waits for its time; one whose end has passed is gone', async () => {
    const { browser, username } = await staffBrowser(t, 'supervisor');
    const tomorrow = new Date(now().getTime() + DAY);
    // Typed with slashes, as staff often write dates.
    const scheduled = await create(browser, { titleZh: '明日起新版服務', publishFrom: taipeiText(tomorrow, '/') });
    assert.equal(scheduled.url, LIST, scheduled.$('.error-summary').text());
    const scheduledId = await idOf('明日起新版服務');
    assert.equal((await announcements().find(scheduledId))!.publishFrom.toISOString(), toMinute(tomorrow).toISOString());
    assert.equal(scheduled.$(`#announcement-${scheduledId} .state`).text(), '排程中');
    assert.equal(scheduled.$(`#announcement-${scheduledId} .marquee`).text(), '否');

    const ending = await create(browser, { titleZh: '今日臨時公告', marquee: 'on', publishFrom: taipeiText(now()), publishUntil: taipeiText(new Date(now().getTime() + HOUR)) });
    assert.equal(ending.url, LIST, ending.$('.error-summary').text());
    const endingId = await idOf('今日臨時公告');

    const today = await home();
    assert.doesNotMatch(listed(today), /明日起新版服務/);
    assert.match(listed(today), /今日臨時公告/);
    assert.match(inMarquee(today), /今日臨時公告/);

    t.clock.advance(2 * HOUR);
    const later = await home();
    assert.doesNotMatch(listed(later), /今日臨時公告/, 'its end has passed');
    assert.doesNotMatch(inMarquee(later), /今日臨時公告/);
    assert.doesNotMatch(listed(later), /明日起新版服務/, 'not yet');

    t.clock.advance(DAY - 2 * HOUR);
    assert.match(listed(await home()), /明日起新版服務/, 'its start has come');

    // The staff session idled out while the clock moved a day.
    const again = await staffLogIn(t, username);
    const list = await again.get(LIST);
    assert.equal(list.$(`#announcement-${scheduledId} .state`).text(), '公告中');
    assert.equal(list.$(`#announcement-${endingId} .state`).text(), '已下架');
  });

  test('editing changes what the home page shows; 下架 removes it at once, the list says 已下架, and a second 下架 changes nothing', async () => {
    const { browser, username } = await staffBrowser(t, 'supervisor');
    await create(browser, { titleZh: '舊標題公告', titleEn: 'Old title', marquee: 'on', publishFrom: taipeiText(now()) });
    const id = await idOf('舊標題公告');
    assert.match(inMarquee(await home()), /舊標題公告/);

    const list = await browser.get(LIST);
    const form = await browser.get(list.$(`#announcement-${id} a.edit-link`).attr('href')!);
    assert.equal(form.status, 200);
    assert.equal(form.$('h1').text(), '修改公告');
    assert.equal(form.$('#titleZh').val(), '舊標題公告', 'the form shows what is stored');
    assert.equal(form.$('#titleEn').val(), 'Old title');
    assert.equal(form.$('#marquee').attr('checked'), 'checked');
    assert.equal(form.$('#publishFrom').val(), taipeiText(now()));

    const later = new Date(now().getTime() + 3 * DAY);
    const edited = await browser.submit({ titleZh: '新標題公告', titleEn: 'New title', publishUntil: taipeiText(later) }, 'form.announcement-form');
    assert.equal(edited.url, LIST, edited.$('.error-summary').text());
    assert.match(edited.$('.notice').text(), /公告已修改/);
    const changed = (await announcements().find(id))!;
    assert.equal(changed.titleZh, '新標題公告');
    assert.equal(changed.createdBy, username);
    assert.equal(changed.publishUntil!.toISOString(), toMinute(later).toISOString());
    const shown = await home();
    assert.match(listed(shown), /新標題公告/);
    assert.match(inMarquee(shown), /新標題公告/);
    assert.doesNotMatch(shown.html, /舊標題公告/);
    assert.match(listed(await home('en')), /New title/);

    // A wrong edit saves nothing of it.
    await browser.get(`${LIST}/${id}/edit`);
    const refused = await browser.submit({ titleZh: '不該存入的標題', publishFrom: 'next week' }, 'form.announcement-form');
    assert.equal(refused.status, 400);
    assert.equal(refused.$('#titleZh').val(), '不該存入的標題');
    assert.equal((await announcements().find(id))!.titleZh, '新標題公告');

    t.clock.advance(MINUTE);
    const retiredAt = now();
    await browser.get(LIST);
    const retired = await browser.submit({}, `#announcement-${id} form.retire-form`);
    assert.equal(retired.url, LIST);
    assert.match(retired.$('.notice').text(), /公告已下架/);
    assert.equal(retired.$(`#announcement-${id} .state`).text(), '已下架');
    assert.equal(retired.$(`#announcement-${id} form.retire-form`).length, 0, 'nothing left to retire');
    assert.equal((await announcements().find(id))!.publishUntil!.toISOString(), retiredAt.toISOString());
    const gone = await home();
    assert.doesNotMatch(gone.html, /新標題公告/, 'this process shows the change at once');

    t.clock.advance(MINUTE);
    const csrf = retired.$('input[name="_csrf"]').first().val() as string;
    const twice = await browser.post(`${LIST}/${id}/retire`, { _csrf: csrf });
    assert.equal(twice.url, LIST);
    assert.match(twice.$('.notice').text(), /先前已下架/);
    assert.equal((await announcements().find(id))!.publishUntil!.toISOString(), retiredAt.toISOString(), 'the end stays when it was first retired');

    const audit = await auditRows(`announcement:${id}`);
    assert.deepEqual(audit.map((row) => row.action).sort(), ['announcement.create', 'announcement.retire', 'announcement.update']);
    assert.deepEqual(audit.find((row) => row.action === 'announcement.update')!.detail, { titleZh: '新標題公告' });
    assert.ok(audit.every((row) => row.actorId === username && row.actorType === 'staff'));

    assert.equal((await browser.post(`${LIST}/999999/retire`, { _csrf: csrf })).status, 404);
    assert.equal((await browser.get(`${LIST}/999999/edit`)).status, 404);
    assert.equal((await browser.get(`${LIST}/abc/edit`)).status, 404);
    assert.equal((await browser.post(`${LIST}/999999/edit`, { _csrf: csrf, titleZh: '不存在', publishFrom: taipeiText(now()) })).status, 404);
  });

  test('another app process sees a change within the cache time (30 s); this process at once', async () => {
    const { browser } = await staffBrowser(t, 'supervisor');
    // Another process's service: it has already read the list, as its home page did.
    const other = new AnnouncementService(t.services.orm, t.clock);
    const titles = async () => (await other.current('zh-TW', 20)).map((a) => a.title);
    assert.ok(!(await titles()).includes('跨伺服器公告'));

    await create(browser, { titleZh: '跨伺服器公告', publishFrom: taipeiText(now()) });
    const id = await idOf('跨伺服器公告');
    assert.match(listed(await home()), /跨伺服器公告/, 'this process: at once');
    assert.ok(!(await titles()).includes('跨伺服器公告'), 'the other process keeps what it read');
    t.clock.advance(29_000);
    assert.ok(!(await titles()).includes('跨伺服器公告'), 'still within the 30 s');
    t.clock.advance(1_001);
    assert.ok((await titles()).includes('跨伺服器公告'), 'past 30 s it reads again');

    await browser.get(LIST);
    await browser.submit({}, `#announcement-${id} form.retire-form`);
    assert.doesNotMatch(listed(await home()), /跨伺服器公告/);
    assert.ok((await titles()).includes('跨伺服器公告'), 'the retired one stays there until its cache runs out');
    t.clock.advance(30_001);
    assert.ok(!(await titles()).includes('跨伺服器公告'));
  });

  test('wrong input gets a message beside each field and in the summary, keeps what was typed, and saves nothing', async () => {
    const { browser } = await staffBrowser(t, 'supervisor');
    const before = (await announcements().list()).length;

    const missing = await create(browser, {
      titleZh: '',
      titleEn: 'English kept',
      bodyZh: '內容保留\n第二行',
      marquee: 'on',
      publishFrom: '2026-03-05 10:00',
      publishUntil: '2026-03-04 10:00',
    });
    assert.equal(missing.status, 400);
    assert.match(missing.$('#titleZh-error').text(), /請輸入中文標題/);
    assert.match(missing.$('#publishUntil-error').text(), /須晚於公告開始/);
    assert.equal(missing.$('#titleZh').attr('aria-invalid'), 'true');
    const summary = missing.$('.error-summary');
    assert.equal(summary.find('a[href="#titleZh"]').text(), '請輸入中文標題');
    assert.match(summary.find('a[href="#publishUntil"]').text(), /須晚於公告開始/);
    assert.equal(missing.$('#titleEn').val(), 'English kept');
    assert.equal(missing.$('#bodyZh').text(), '內容保留\n第二行');
    assert.equal(missing.$('#marquee').attr('checked'), 'checked');
    assert.equal(missing.$('#publishFrom').val(), '2026-03-05 10:00');
    assert.equal(missing.$('#publishUntil').val(), '2026-03-04 10:00');
    assert.match(missing.$('title').text(), /^錯誤/);

    const equal = await create(browser, { titleZh: '同時開始與結束', publishFrom: '2026-03-05 10:00', publishUntil: '2026-03-05 10:00' });
    assert.equal(equal.status, 400);
    assert.match(equal.$('#publishUntil-error').text(), /須晚於公告開始/);

    const malformed = await create(browser, { titleZh: HOSTILE, publishFrom: '2026-13-01 10:00', publishUntil: 'tomorrow' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.$('#publishFrom-error').text(), /格式/);
    assert.match(malformed.$('#publishUntil-error').text(), /格式/);
    assert.equal(malformed.$('.error-summary li').length, 2);
    assert.equal(malformed.$('#titleZh').val(), HOSTILE, 'the title typed is kept, as text');
    assert.ok(malformed.html.includes(`value="${HOSTILE_ESCAPED}"`), 'and escaped in its attribute');
    assert.equal(malformed.$('img').length, 0);
    assert.equal(malformed.$('[hx-get="/logout"]').length, 0);

    for (const publishFrom of ['2026-02-30 10:00', '2026-03-05 24:00', '2026-03-05', '115-03-05 10:00']) {
      const page = await create(browser, { titleZh: '日期錯誤', publishFrom });
      assert.equal(page.status, 400, publishFrom);
      assert.match(page.$('#publishFrom-error').text(), /格式/, publishFrom);
    }
    const noStart = await create(browser, { titleZh: '沒有開始時間', publishFrom: '' });
    assert.match(noStart.$('#publishFrom-error').text(), /請輸入公告開始時間/);
    const long = await create(browser, { titleZh: '長'.repeat(201), bodyEn: 'x'.repeat(2001), publishFrom: '2026-03-05 10:00' });
    assert.equal(long.status, 400);
    assert.match(long.$('#titleZh-error').text(), /最多 200 個字/);
    assert.match(long.$('#bodyEn-error').text(), /最多 2000 個字/);

    assert.equal((await announcements().list()).length, before, 'nothing was saved');
    const atLimit = await create(browser, { titleZh: '滿'.repeat(200), bodyZh: '行\r\n'.repeat(999) + '行尾', publishFrom: '2026-03-05 10:00' });
    assert.equal(atLimit.url, LIST, 'exactly 200 characters, and 2000 counting each line break once, are accepted');
  });

  test('titles are plain text: markup typed into one is shown as text on the home page and on the list', async () => {
    const { browser } = await staffBrowser(t, 'supervisor');
    const page = await create(browser, { titleZh: HOSTILE, titleEn: HOSTILE, bodyZh: HOSTILE, marquee: 'on', publishFrom: taipeiText(now()) });
    assert.equal(page.url, LIST, page.$('.error-summary').text());
    const id = await idOf(HOSTILE);
    for (const shown of [page, await home(), await home('en')]) {
      assert.equal(shown.$('img').length, 0, `no image element on ${shown.url}`);
      assert.equal(shown.$('[onerror]').length, 0);
      assert.equal(shown.$('[hx-get="/logout"]').length, 0, `no hx- attribute on ${shown.url}`);
      assert.ok(shown.html.includes(HOSTILE_ESCAPED), `escaped on ${shown.url}`);
      assert.ok(!shown.html.includes('<img src=x'));
    }
    assert.equal(page.$(`#announcement-${id} .title-zh`).text(), HOSTILE, 'the list shows the title as typed');
    const front = await home();
    assert.ok(listed(front).includes(HOSTILE));
    assert.ok(inMarquee(front).includes(HOSTILE));
    await browser.get(LIST);
    await browser.submit({}, `#announcement-${id} form.retire-form`);
  });

  test('a clerk gets 403 on the list, the form and every POST; an admin may manage', async () => {
    const { browser: clerk } = await staffBrowser(t, 'clerk');
    const menu = await clerk.get('/intranet');
    assert.equal(menu.$(`a[href="${LIST}"]`).length, 0, 'the menu does not offer it');
    const csrf = menu.$('input[name="_csrf"]').first().val() as string;
    const id = await announcements().create(
      { titleZh: '主管已發布的公告', titleEn: null, bodyZh: null, bodyEn: null, marquee: false, publishFrom: now(), publishUntil: null },
      { username: 'supervisor-seed', clientAddress: '127.0.0.1' },
    );
    const before = await announcements().list();

    for (const url of [LIST, `${LIST}/new`, `${LIST}/${id}/edit`]) {
      const page = await clerk.get(url);
      assert.equal(page.status, 403, url);
      assert.match(page.$('h1').text(), /無此作業權限/);
    }
    for (const url of [`${LIST}/new`, `${LIST}/${id}/edit`, `${LIST}/${id}/retire`]) {
      const page = await clerk.post(url, { _csrf: csrf, titleZh: '櫃台人員的公告', publishFrom: taipeiText(now()) });
      assert.equal(page.status, 403, url);
    }
    assert.deepEqual(await announcements().list(), before, 'nothing changed');

    const { browser: admin, username } = await staffBrowser(t, 'admin');
    assert.equal((await admin.get(LIST)).status, 200);
    const made = await create(admin, { titleZh: '管理者的公告', publishFrom: taipeiText(now()) });
    assert.equal(made.url, LIST);
    assert.equal(made.$(`#announcement-${await idOf('管理者的公告')} .created-by`).text(), username);
  });

  test('the pages work in English (?lang=en)', async () => {
    const { browser } = await staffBrowser(t, 'supervisor');
    const list = await browser.get(`${LIST}?lang=en`);
    assert.equal(list.$('html').attr('lang'), 'en');
    assert.equal(list.$('h1').text(), 'Announcements');
    assert.equal(list.$(`a[href="${LIST}/new"]`).text(), 'New announcement');
    assert.equal(list.$('.announcement-table th').first().text(), 'Title');

    const form = await browser.get(`${LIST}/new`);
    assert.equal(form.$('h1').text(), 'New announcement');
    assert.equal(form.$('label[for="titleZh"]').text(), 'Title (Chinese)');
    assert.equal(form.$('label[for="titleEn"]').text(), 'Title (English)');
    assert.equal(form.$('label[for="bodyEn"]').text(), 'Content (English)');
    assert.equal(form.$('label[for="marquee"]').text(), 'Also show in the marquee');
    assert.match(form.$('#publishFrom-hint').text(), /Taipei time/);

    const refused = await browser.submit({ titleZh: '', publishFrom: 'soon' }, 'form.announcement-form');
    assert.equal(refused.status, 400);
    assert.match(refused.$('#titleZh-error').text(), /Enter the Chinese title$/);
    assert.match(refused.$('#publishFrom-error').text(), /Enter the start like 2026-03-02 14:30/);
    assert.match(refused.$('.error-summary').text(), /Enter the Chinese title/);

    const made = await browser.submit({ titleZh: '英文介面建立', publishFrom: taipeiText(now()) }, 'form.announcement-form');
    assert.equal(made.url, LIST);
    assert.equal(made.$('.notice').text(), 'The announcement was added.');
    const id = await idOf('英文介面建立');
    assert.equal(made.$(`#announcement-${id} .state`).text(), 'In force');
    assert.match(made.$(`#announcement-${id} .period .from`).text(), /^2026-\d\d-\d\d \d\d:\d\d:00$/);
    assert.equal(made.$(`#announcement-${id} .period .until`).text(), 'no end set');
  });
});
