import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { insertTestCard, type TestAgent, type TestCard } from '../helpers/card-reads.js';
import { axeViolations, screenshot } from '../helpers/chromium.js';
import { useChromiumSite, type LiveSite } from '../helpers/site.js';
import { createStaff, STAFF_PASSWORD } from '../helpers/staff.js';

const PASSWORD = 'Taipei#2026';

// The counter in a real browser: a clerk logs in, registers the person in front of them (their card through the real
// agent) and suspends another person's registration. Once without JavaScript, once with it (and an axe scan).
describe('the counter intranet in Chromium', () => {
  const site = useChromiumSite();

  for (const javaScriptEnabled of [false, true]) {
    const mode = javaScriptEnabled ? 'js' : 'nojs';
    test(`a clerk logs in, registers a person at the counter and suspends another (${mode})`, { timeout: 120_000 }, async () => {
      site.t.clock.set(new Date());
      const { t } = site;
      const username = await createStaff(t, 'clerk');
      const newcomer = await insertTestCard(t.services, { name: javaScriptEnabled ? '黃雅婷' : '吳俊傑', sex: javaScriptEnabled ? 'F' : 'M' });
      const other = await insertTestCard(t.services, { name: '鄭文華' });
      await t.services.api.registration.service.apply({
        identity: { idNumber: other.sim.idNumber, cardNumber: other.sim.cardNumber, name: other.sim.name, birthDate: other.sim.birthDate },
        password: PASSWORD, contacts: { email: `other-${mode}@example.com.tw`, mobile: '0912345678' }, locale: 'zh-TW', clientAddress: '127.0.0.1',
      });
      const context = await site.browser.newContext({ javaScriptEnabled, locale: 'zh-TW' });
      const page = await context.newPage();
      const origin = site.live.origin;
      const mainText = async () => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ');
      const check = async (name: string) => {
        await screenshot(page, `intranet-${name}-${mode}`);
        if (javaScriptEnabled) {
          const violations = await axeViolations(page);
          assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 2)}`);
        }
      };

      // 1. Log in.
      await page.goto(`${origin}/intranet`);
      assert.equal(new URL(page.url()).pathname, '/intranet/login');
      await check('login');
      await page.fill('#username', username);
      await page.fill('#password', STAFF_PASSWORD);
      await Promise.all([page.waitForURL(`${origin}/intranet`), page.click('form.staff-login-form button[type=submit]')]);
      await check('menu');

      // 2. 臨櫃註冊: the card, the documents, the person's password, the contacts.
      await Promise.all([page.waitForURL(`${origin}/intranet/register`), page.click('.service-menu a[href="/intranet/register"]')]);
      await readCard(page, site.live, site.agent, newcomer, javaScriptEnabled);
      await page.check('input[name=documents][value=national_id]');
      await page.fill('#password', PASSWORD);
      await page.fill('#passwordConfirm', PASSWORD);
      await page.fill('#mobile', '0912345678');
      await page.fill('#email', `counter-${mode}@example.com.tw`);
      await check('register');
      await Promise.all([page.waitForLoadState(), page.click('form.counter-register-form button[type=submit]')]);
      await page.locator('h1', { hasText: '臨櫃註冊完成' }).waitFor();
      assert.match(await mainText(), new RegExp(`${newcomer.sim.name} 的健保卡網路服務註冊已完成並啟用`));
      await check('registered');
      assert.equal((await t.services.api.registration.service.account(newcomer.sim.idNumber))!.state, 'active');

      // 3. Look the other person up by card number and suspend them.
      await t.services.orm.em.fork().getConnection().execute(`update registration set state = 'active' where id_number = ?`, [other.sim.idNumber]);
      await page.goto(`${origin}/intranet/persons`);
      await page.fill('#q', other.sim.cardNumber);
      await Promise.all([page.waitForURL(`${origin}/intranet/person`), page.click('form.person-search-form button[type=submit]')]);
      assert.equal(await page.locator('.person-name').textContent(), other.sim.name);
      await page.fill('#reason', '民眾要求停用');
      await check('person');
      await Promise.all([page.waitForURL(`${origin}/intranet/person`), page.click('form.suspend-form button[type=submit]')]);
      assert.equal(await page.locator('.person-state').textContent(), '已停用');
      assert.equal((await t.services.api.registration.service.account(other.sim.idNumber))!.state, 'suspended');
      await context.close();
    });
  }
});

/** 讀取 on the counter's panel with the card in the simulated reader: without JS the agent's page is passed through. */
async function readCard(page: Page, live: LiveSite, agent: TestAgent, card: TestCard, javaScriptEnabled: boolean) {
  await agent.insert(card.sim);
  const panel = page.locator('#card-panel-counter');
  const readButton = panel.locator('form.card-read-form button[type=submit]');
  if (javaScriptEnabled) await readButton.click();
  else {
    await Promise.all([page.waitForURL(`${agent.url}/v1/read`), readButton.click()]);
    await Promise.all([page.waitForURL(`${live.origin}/intranet/register`), page.click('button[type=submit]')]);
  }
  await panel.locator('.card-holder-name').waitFor({ timeout: 10_000 });
  assert.equal(await panel.locator('.card-holder-name').textContent(), card.sim.name);
}
