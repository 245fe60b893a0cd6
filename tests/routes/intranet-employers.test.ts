import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { TableHouseholdRegistry, RegistryUnavailableError, type HouseholdRegistry } from '../../src/modules/household/index.js';
import { maskIdNumber } from '../../src/platform/audit/index.js';
import { formatDateTime } from '../../src/platform/i18n/index.js';
import { useTestApp } from '../helpers/app.js';
import type { BrowserAgent, Page } from '../helpers/browser-agent.js';
import { testIdNumber } from '../helpers/card-reads.js';
import { registerActive, type LoginSite } from '../helpers/logins.js';
import { staffBrowser } from '../helpers/staff.js';

// 投保單位管理者: a supervisor looks a unit up by its code and designates (or replaces) its employer-portal admin.
describe('counter intranet: employer unit admins', () => {
  let registryDown = false;
  // The built-in registry, which a test can make unreachable (as the live 戶政 service may be).
  const registry: HouseholdRegistry = {
    check: (facts) => new TableHouseholdRegistry(t.services.orm).check(facts),
    async findPerson(idNumber) {
      if (registryDown) throw new RegistryUnavailableError(new Error('connection refused'));
      return new TableHouseholdRegistry(t.services.orm).findPerson(idNumber);
    },
    async findPersons(idNumbers) {
      if (registryDown) throw new RegistryUnavailableError(new Error('connection refused'));
      return new TableHouseholdRegistry(t.services.orm).findPersons(idNumbers);
    },
  };
  // Many staff logins from one address: the login limit is raised.
  const t = useTestApp({ modules: { household: registry }, rateLimits: { login: { points: 1000, durationSeconds: 60 } } });

  /** A unit in the enrolment registry: one row per person, `insured` or once insured. Returns its code. */
  async function seedUnit(unitName: string, insured: boolean[]): Promise<string> {
    const unitCode = String(randomInt(10_000_000, 100_000_000));
    const db = t.services.orm.em.fork().getConnection();
    for (const flag of insured) {
      await db.execute('insert into enrollment (id_number, unit_code, unit_name, insured) values (?, ?, ?, ?)', [testIdNumber(), unitCode, unitName, flag]);
    }
    return unitCode;
  }

  /** A person (with card) whose registration is in `state`, made through the registration module's API. */
  async function person(state: 'active' | 'pending' | 'suspended' = 'active'): Promise<string> {
    // registerActive uses only the app's services of the site.
    const { card } = await registerActive({ t } as LoginSite, { state });
    return card.sim.idNumber;
  }

  /** The search form sent as a browser sends a GET form: its action with the field in the query. */
  async function lookUp(browser: BrowserAgent, unitCode: string): Promise<Page> {
    const form = browser.page!.$('form.employers-search-form');
    assert.equal(form.attr('method'), 'get');
    assert.equal(form.find('input[name="unitCode"]').length, 1);
    return browser.get(`${form.attr('action')}?${new URLSearchParams({ unitCode })}`);
  }

  async function unitPage(browser: BrowserAgent, unitCode: string): Promise<Page> {
    await browser.get('/intranet/employers');
    return lookUp(browser, unitCode);
  }

  const designations = (unitCode: string) =>
    t.services.orm.em.fork().getConnection().execute<{ actor_id: string; subject: string; subject_key: string; outcome: string; detail: Record<string, string> | null }[]>(
      `select actor_id, subject, subject_key, outcome, detail from audit_event where action = 'employer.admin_designate' and subject = ? order by id`,
      [`unit:${unitCode}`],
    );

  test('a supervisor looks a unit up by its code and sees its name, how many it insures and 尚未指定', async () => {
    const unitCode = await seedUnit('快樂科技股份有限公司', [true, true, false]);
    const { browser } = await staffBrowser(t, 'supervisor');
    const search = await browser.get('/intranet/employers');
    assert.equal(search.status, 200);
    assert.notEqual(search.$('#unitCode').attr('autofocus'), undefined, 'the code field has the focus');
    assert.equal(search.$('form.employers-search-form').attr('method'), 'get');
    assert.equal(search.$('label[for="unitCode"]').text(), '投保單位代號');

    const page = await lookUp(browser, unitCode);
    assert.equal(page.status, 200);
    assert.equal(page.url, `/intranet/employers?unitCode=${unitCode}`);
    assert.equal(page.$('#unitCode').val(), unitCode, 'the code searched stays in the field');
    assert.equal(page.$('#unit-heading').text(), '快樂科技股份有限公司');
    assert.equal(page.$('.insured-count').text(), '2 人', 'the row no longer insured is not counted');
    assert.equal(page.$('.unit-admin-none').text(), '尚未指定');
    const form = page.$('form.unit-admin-form');
    assert.equal(form.attr('method'), 'post');
    assert.equal(form.attr('action'), `/intranet/employers/${unitCode}/admin`);
    assert.equal(form.find('input[name="_csrf"]').length, 1);
    assert.equal(form.find('button[type="submit"]').text(), '指定');
  });

  test('designating an active person: back on the unit page with a notice and the admin masked, one audit row', async () => {
    const unitCode = await seedUnit('大同文具行', [true]);
    const idNumber = await person();
    const { browser, username } = await staffBrowser(t, 'supervisor');
    await unitPage(browser, unitCode);

    // Not following the redirect: the person's ID number must be in no URL.
    const csrf = browser.page!.$('form.unit-admin-form input[name="_csrf"]').val() as string;
    const res = await browser.agent.post(`/intranet/employers/${unitCode}/admin`).type('form').send({ _csrf: csrf, idNumber: idNumber.toLowerCase() });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, `/intranet/employers?unitCode=${unitCode}`);

    const page = await browser.get(res.headers.location);
    assert.equal(page.$('p.notice[role="status"]').text(), '已指定本單位的管理者。');
    assert.equal(page.$('.admin-id').text(), maskIdNumber(idNumber));
    assert.equal(page.$('.admin-name').text(), '王小明');
    assert.equal(page.$('.admin-designated-by').text(), username);
    assert.equal(page.$('.unit-admin-none').length, 0);
    assert.equal(page.$('form.unit-admin-form button[type="submit"]').text(), '更換');
    assert.ok(!page.html.includes(idNumber), 'the full ID number is not on the page');
    assert.equal((await browser.get(page.url)).$('p.notice').length, 0, 'the notice shows once');

    const admin = await t.services.api.employers.unitAdmins.adminOf(unitCode);
    assert.equal(admin?.idNumber, idNumber);
    assert.equal(admin?.designatedBy, username);
    assert.equal(page.$('.admin-designated-at').text(), formatDateTime(admin!.designatedAt, 'zh-TW'));
    assert.match(page.$('.admin-designated-at').text(), /^民國115年3月2日 /, 'in the ROC calendar, Taipei time');
    assert.deepEqual(await t.services.api.employers.unitAdmins.unitsOf(idNumber), [unitCode]);
    const audit = await designations(unitCode);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor_id, username);
    assert.equal(audit[0]!.outcome, 'success');
    assert.equal(audit[0]!.subject_key, t.services.audit.personKey(idNumber));
    assert.equal(audit[0]!.detail?.admin, maskIdNumber(idNumber));
    assert.equal(audit[0]!.detail?.previous, undefined, 'there was no admin before');
  });

  test('replacing the admin with another person works, and the audit row names both', async () => {
    const unitCode = await seedUnit('新興營造有限公司', [true, true]);
    const first = await person();
    const second = await person();
    const { browser } = await staffBrowser(t, 'supervisor');
    await unitPage(browser, unitCode);
    await browser.submit({ idNumber: first }, 'form.unit-admin-form');

    const page = await browser.submit({ idNumber: second }, 'form.unit-admin-form');
    assert.equal(page.status, 200);
    assert.equal(page.url, `/intranet/employers?unitCode=${unitCode}`);
    assert.equal(page.$('p.notice').text(), '已更換本單位的管理者。');
    assert.equal(page.$('.admin-id').text(), maskIdNumber(second));

    assert.equal((await t.services.api.employers.unitAdmins.adminOf(unitCode))?.idNumber, second);
    assert.deepEqual(await t.services.api.employers.unitAdmins.unitsOf(first), [], 'the first person is no longer admin');
    assert.deepEqual(await t.services.api.employers.unitAdmins.unitsOf(second), [unitCode]);
    const audit = await designations(unitCode);
    assert.equal(audit.length, 2);
    assert.equal(audit[1]!.subject_key, t.services.audit.personKey(second));
    assert.equal(audit[1]!.detail?.admin, maskIdNumber(second));
    assert.equal(audit[1]!.detail?.previous, maskIdNumber(first));
  });

  test('one person may be the admin of several units', async () => {
    const [one, two] = [await seedUnit('甲公司', [true]), await seedUnit('乙公司', [true])];
    const idNumber = await person();
    const { browser } = await staffBrowser(t, 'supervisor');
    for (const unitCode of [one, two]) {
      await unitPage(browser, unitCode);
      assert.equal((await browser.submit({ idNumber }, 'form.unit-admin-form')).$('.admin-id').text(), maskIdNumber(idNumber));
    }
    assert.deepEqual(await t.services.api.employers.unitAdmins.unitsOf(idNumber), [one, two].sort());
  });

  test('a pending, a suspended, an unregistered person and a malformed ID are refused beside the field; nothing is saved', async () => {
    const unitCode = await seedUnit('光明診所', [true]);
    const cases: [string, RegExp][] = [
      [await person('pending'), /尚未完成認證.*須先完成註冊/],
      [await person('suspended'), /已停用/],
      [testIdNumber(), /尚未註冊.*須先完成註冊/],
      ['A12345678', /身分證號格式不符/],
      ['', /請輸入新管理者的身分證號/],
    ];
    const { browser } = await staffBrowser(t, 'supervisor');
    for (const [idNumber, message] of cases) {
      await unitPage(browser, unitCode);
      const page = await browser.submit({ idNumber }, 'form.unit-admin-form');
      assert.equal(page.status, 400, idNumber);
      assert.match(page.$('#idNumber-error').text(), message);
      assert.equal(page.$('.error-summary a[href="#idNumber"]').length, 1, 'the error summary links to the field');
      assert.equal(page.$('#idNumber').attr('aria-invalid'), 'true');
      assert.equal(page.$('#idNumber').attr('value'), idNumber || undefined, 'what was typed is kept');
      assert.equal(page.$('#unit-heading').text(), '光明診所', 'still on the unit');
      assert.equal(page.$('.unit-admin-none').text(), '尚未指定');
    }
    assert.equal(await t.services.api.employers.unitAdmins.adminOf(unitCode), null);
    assert.equal((await designations(unitCode)).length, 0);
  });

  test('designating the same person twice changes nothing the second time and writes one audit row', async () => {
    const unitCode = await seedUnit('永和豆漿店', [true]);
    const idNumber = await person();
    const { browser } = await staffBrowser(t, 'supervisor');
    await unitPage(browser, unitCode);
    await browser.submit({ idNumber }, 'form.unit-admin-form');
    const before = await t.services.api.employers.unitAdmins.adminOf(unitCode);

    t.clock.advance(60_000);
    const again = await browser.submit({ idNumber }, 'form.unit-admin-form');
    assert.equal(again.url, `/intranet/employers?unitCode=${unitCode}`);
    assert.equal(again.$('p.notice').text(), '此人已是本單位的管理者，未做任何變更。');
    assert.deepEqual(await t.services.api.employers.unitAdmins.adminOf(unitCode), before, 'not even the time moved');
    assert.equal((await designations(unitCode)).length, 1);
  });

  test('a malformed or unknown unit code gets a message beside the field, and the code typed is kept', async () => {
    const { browser } = await staffBrowser(t, 'supervisor');
    const cases: [string, number, RegExp][] = [
      ['1234567', 400, /須為 8 位數字/],
      ['1234-5678', 400, /須為 8 位數字/],
      ['', 400, /請輸入投保單位代號/],
      [await unknownCode(), 404, /查無此投保單位代號/],
    ];
    for (const [unitCode, status, message] of cases) {
      await browser.get('/intranet/employers');
      const page = await lookUp(browser, unitCode);
      assert.equal(page.status, status, unitCode);
      assert.match(page.$('#unitCode-error').text(), message);
      assert.equal(page.$('.error-summary a[href="#unitCode"]').length, 1);
      assert.equal(page.$('#unitCode').val(), unitCode);
      assert.equal(page.$('form.unit-admin-form').length, 0, 'no unit, no form');
    }
  });

  test('posting a designation for an unknown unit saves nothing', async () => {
    const unitCode = await unknownCode();
    const idNumber = await person();
    const { browser } = await staffBrowser(t, 'supervisor');
    const search = await browser.get('/intranet/employers');
    const csrf = search.$('input[name="_csrf"]').first().val() as string;
    const page = await browser.post(`/intranet/employers/${unitCode}/admin`, { _csrf: csrf, idNumber });
    assert.equal(page.status, 404);
    assert.match(page.$('#unitCode-error').text(), /查無此投保單位代號/);
    assert.equal(await t.services.api.employers.unitAdmins.adminOf(unitCode), null);
    assert.deepEqual(await t.services.api.employers.unitAdmins.unitsOf(idNumber), []);
    assert.equal((await designations(unitCode)).length, 0);
  });

  for (const role of ['clerk', 'admin'] as const) {
    test(`${role === 'admin' ? 'an' : 'a'} ${role} gets 403 on the page and on the form, and designates nothing`, async () => {
      const unitCode = await seedUnit('禁止公司', [true]);
      const idNumber = await person();
      const { browser } = await staffBrowser(t, role);
      const menu = await browser.get('/intranet');
      assert.equal(menu.$('.service-menu a[href="/intranet/employers"]').length, 0, 'not offered in the menu');
      for (const url of ['/intranet/employers', `/intranet/employers?unitCode=${unitCode}`]) {
        const page = await browser.get(url);
        assert.equal(page.status, 403, url);
        assert.equal(page.$('h1').text(), '無此作業權限');
      }
      // A valid CSRF token (from the menu's logout form), so the 403 is the permission's.
      const csrf = menu.$('input[name="_csrf"]').first().val() as string;
      const posted = await browser.post(`/intranet/employers/${unitCode}/admin`, { _csrf: csrf, idNumber });
      assert.equal(posted.status, 403);
      assert.equal(posted.$('h1').text(), '無此作業權限');
      assert.equal(await t.services.api.employers.unitAdmins.adminOf(unitCode), null);
      assert.equal((await designations(unitCode)).length, 0);
    });
  }

  test('the page and its messages in English (?lang=en)', async () => {
    const unitCode = await seedUnit('Acme Trading Co.', [true, true, true]);
    const { browser } = await staffBrowser(t, 'supervisor');
    const search = await browser.get('/intranet/employers?lang=en');
    assert.equal(search.$('h1').text(), 'Employer unit admins');
    assert.equal(search.$('label[for="unitCode"]').text(), 'Insured unit code');
    assert.equal(search.$('form.employers-search-form button').text(), 'Look up');

    const bad = await lookUp(browser, '12');
    assert.equal(bad.$('#unitCode-error').text(), 'Error: The insured unit code must be exactly 8 digits');

    await browser.get('/intranet/employers');
    const page = await lookUp(browser, unitCode);
    assert.equal(page.$('.unit-summary th').map((_i, el) => page.$(el).text()).get().join('|'), 'Insured unit code|Unit name|Persons insured now');
    assert.equal(page.$('.insured-count').text(), '3');
    assert.equal(page.$('.unit-admin-none').text(), 'Not designated yet');
    assert.equal(page.$('label[for="idNumber"]').text(), "New admin's ID number");
    assert.equal(page.$('form.unit-admin-form button').text(), 'Designate');

    const refused = await browser.submit({ idNumber: testIdNumber() }, 'form.unit-admin-form');
    assert.match(refused.$('#idNumber-error').text(), /has not registered .* must register first/);
    const done = await browser.submit({ idNumber: await person() }, 'form.unit-admin-form');
    assert.equal(done.$('p.notice').text(), "The unit's admin has been designated.");
    assert.equal(done.$('form.unit-admin-form button').text(), 'Replace');
    done.$('.admin-name').remove();
    assert.doesNotMatch(done.$('main').text(), /[\u4e00-\u9fff]/, 'no Chinese is left on the page but the person\'s name');
  });

  test('when the household registry cannot answer, the admin is still shown, with "try later" for the name', async () => {
    const unitCode = await seedUnit('遠東貨運', [true]);
    const idNumber = await person();
    await t.services.api.employers.unitAdmins.designate({ unitCode, idNumber, by: 'supervisor-seed', clientAddress: '127.0.0.1' });
    const { browser } = await staffBrowser(t, 'supervisor');
    registryDown = true;
    try {
      const page = await unitPage(browser, unitCode);
      assert.equal(page.status, 200);
      assert.equal(page.$('.admin-id').text(), maskIdNumber(idNumber));
      assert.match(page.$('.admin-name').text(), /暫時無法查詢，請稍後再試/);
    } finally {
      registryDown = false;
    }
  });

  /** A code no enrolment row has. */
  async function unknownCode(): Promise<string> {
    for (;;) {
      const unitCode = String(randomInt(10_000_000, 100_000_000));
      if (!(await t.services.api.employers.enrollments.unit(unitCode))) return unitCode;
    }
  }
});
