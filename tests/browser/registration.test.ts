import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { insertTestCard, type TestAgent, type TestCard } from '../helpers/card-reads.js';
import { axeViolations, screenshot } from '../helpers/chromium.js';
import { TEST_HOUSEHOLD } from '../helpers/flows.js';
import { useChromiumSite, type LiveSite } from '../helpers/site.js';

const PASSWORD = 'Taipei#2026';

// 首次登入請先申請 in a real browser, then the first login: terms, the card through the real agent, 戶號 and
// address, password and contacts, the mail's link, the same card again, 登入 and 登出. Once with JS, once without.
describe('registration and login in Chromium', () => {
  const site = useChromiumSite();

  for (const javaScriptEnabled of [false, true]) {
    const mode = javaScriptEnabled ? 'js' : 'nojs';
    test(`registers, confirms by the mail's link and logs in (${mode})`, { timeout: 120_000 }, async () => {
      site.t.clock.set(new Date());
      const card = await insertTestCard(site.t.services, { name: javaScriptEnabled ? '陳建宏' : '李淑芬', sex: javaScriptEnabled ? 'M' : 'F' });
      const email = `browser-${mode}-${card.sim.cardNumber}@example.com.tw`;
      const context = await site.browser.newContext({ javaScriptEnabled, locale: 'zh-TW' });
      const page = await context.newPage();
      // The page's navigations, to tell what happened when a step times out.
      const trail: string[] = [];
      page.on('response', (r) => {
        if (r.request().isNavigationRequest()) trail.push(`${r.request().method()} ${r.url()} ${r.status()}`);
      });
      const explain = async (err: Error): Promise<never> => {
        const main = await page.locator('main').textContent().catch(() => '');
        throw new Error(`${err.message}\n${trail.join('\n')}\nat ${page.url()}: ${main?.replace(/\s+/g, ' ').slice(0, 400)}`);
      };
      const mainText = async () => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ');
      const pathOf = () => new URL(page.url()).pathname;
      // Every distinct page: a screenshot in both modes; axe where scripts run (it is page script itself).
      const check = async (name: string) => {
        await screenshot(page, `registration-${name}-${mode}`);
        if (javaScriptEnabled) {
          const violations = await axeViolations(page);
          assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 2)}`);
        }
      };

      // 1. The terms, and 我已閱讀完畢，並瞭解相關規定.
      await page.goto(`${site.live.origin}/register`);
      assert.match(await mainText(), /十五、/);
      await check('terms');
      await Promise.all([
        page.waitForURL(`${site.live.origin}/register/identity`),
        page.locator('form[action="/register/terms"] button[type=submit]', { hasText: '我已閱讀完畢，並瞭解相關規定' }).click(),
      ]).catch(explain);

      // 2. The card, 戶號 and 戶籍鄉鎮里鄰.
      await readCard(page, site.live, site.agent, card, 'register', '/register/identity', javaScriptEnabled).catch(explain);
      await page.fill('#householdNumber', TEST_HOUSEHOLD.householdNumber);
      // With JS a pick swaps the fieldset (HTMX GET /address-fields); without, 更新選項 reloads the form.
      const pickAndFill = async (select: string, value: string, next: string, nextValue: string) => {
        const navigations = trail.length;
        await page.selectOption(select, value);
        if (!javaScriptEnabled) {
          await Promise.all([
            page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/register/identity')),
            page.locator('#address-fields button[name=refresh][value=address]', { hasText: '更新選項' }).click(),
          ]);
          await page.waitForLoadState();
        }
        await page.locator(`${next} option[value="${nextValue}"]`).waitFor({ state: 'attached', timeout: 10_000 }).catch(explain);
        assert.equal(await page.locator(select).inputValue(), value, `${select} keeps its pick`);
        if (javaScriptEnabled) assert.equal(trail.length, navigations, 'the lists fill in place, no page load');
      };
      await pickAndFill('#county', TEST_HOUSEHOLD.county, '#township', TEST_HOUSEHOLD.township);
      await pickAndFill('#township', TEST_HOUSEHOLD.township, '#village', TEST_HOUSEHOLD.village);
      await page.selectOption('#village', TEST_HOUSEHOLD.village);
      await page.fill('#neighborhood', TEST_HOUSEHOLD.neighborhood);
      assert.equal(await page.locator('#householdNumber').inputValue(), TEST_HOUSEHOLD.householdNumber, '戶號 survives the list updates');
      await check('identity');
      await Promise.all([
        page.waitForURL(`${site.live.origin}/register/credentials`),
        page.locator('form[action="/register/identity"] button[type=submit]:not([name])', { hasText: '下一步' }).click(),
      ]).catch(explain);

      // 3. Password and contacts; the strength shows live while typing where scripts run.
      await page.locator('#password').pressSequentially(PASSWORD);
      const strength = page.locator('#password-strength');
      if (javaScriptEnabled) {
        await page.locator('#password-strength').filter({ hasText: /^強$/ }).waitFor({ timeout: 5_000 }).catch(explain);
        assert.equal(await strength.getAttribute('data-strength'), 'strong');
      } else {
        assert.equal((await strength.textContent())?.trim(), '', 'without scripts the strength shows only after a submit');
      }
      await page.fill('#passwordConfirm', PASSWORD);
      await page.fill('#mobile', '0912345678');
      await page.fill('#email', email);
      await check('credentials');
      await Promise.all([
        page.waitForURL(`${site.live.origin}/register/applied`),
        page.locator('form[action="/register/credentials"] button[type=submit]', { hasText: '確認申請' }).click(),
      ]).catch(explain);

      // 4. 您已完成申請…
      assert.match(await mainText(), /您已完成申請/);
      assert.match(await mainText(), new RegExp(email.replace(/[.]/g, '\\.')));
      await check('applied');

      // 5. The mail's link (read from the outbox), the same card again, 確定.
      const rows = (await site.t.services.orm.em.fork().getConnection().execute(
        `select payload->>'linkPath' as "linkPath" from outbox_message
          where template = 'registration-confirmation' and recipient = ? order by created_at desc limit 1`,
        [email],
      )) as { linkPath: string }[];
      assert.ok(rows[0]?.linkPath, `no confirmation mail to ${email} in the outbox`);
      await page.goto(`${site.live.origin}${rows[0].linkPath}`);
      assert.equal(pathOf(), '/register/confirm', 'the token leaves the address bar');
      assert.equal(new URL(page.url()).search, '');
      await readCard(page, site.live, site.agent, card, 'confirm', '/register/confirm', javaScriptEnabled).catch(explain);
      await check('confirm');
      await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/register/confirm')),
        page.locator('form[action="/register/confirm"] button[type=submit]', { hasText: '確定' }).click(),
      ]);
      await page.waitForLoadState();
      await page.locator('main', { hasText: '您已完成電子郵件信箱認證' }).waitFor({ timeout: 10_000 }).catch(explain);
      await check('confirmed');

      // 6. The first login: the card on the home page, the registration password, 登入 → /account, then 登出.
      await page.goto(`${site.live.origin}/`);
      await readCard(page, site.live, site.agent, card, 'login', '/', javaScriptEnabled).catch(explain);
      await page.fill('form[action="/login"] #password', PASSWORD);
      await Promise.all([
        page.waitForURL(`${site.live.origin}/account`, { timeout: 10_000 }),
        page.locator('form[action="/login"] button[type=submit]', { hasText: '登入' }).click(),
      ]).catch(explain);
      const logout = page.locator('form[action="/logout"] button[type=submit]');
      await logout.waitFor({ timeout: 5_000 }).catch(explain);
      assert.equal(await logout.count(), 1, 'the account page has one 登出');
      await check('account');
      await Promise.all([page.waitForURL((url) => url.pathname !== '/account'), logout.click()]).catch(explain);
      // Logged out: the account page is closed again.
      await page.goto(`${site.live.origin}/account`);
      assert.equal(pathOf(), '/', 'after 登出 /account sends the person to the login page');
      assert.equal(await page.locator('form[action="/logout"]').count(), 0);
      await context.close();
    });
  }
});

/**
 * The card in the reader and 讀取 on the page's panel for `purpose`: a top-level post to the real agent, whose page
 * posts back by itself where scripts run and waits for 繼續 where they do not; the browser comes back to `returnPath`.
 */
async function readCard(page: Page, live: LiveSite, agent: TestAgent, card: TestCard, purpose: string, returnPath: string, javaScriptEnabled: boolean) {
  await agent.insert(card.sim);
  const panel = page.locator(`#card-panel-${purpose}`);
  const readButton = panel.locator('form.card-read-form button[type=submit]');
  if (javaScriptEnabled) await readButton.click();
  else {
    await Promise.all([page.waitForURL(`${agent.url}/v1/read`), readButton.click()]);
    await Promise.all([page.waitForURL(`${live.origin}${returnPath}`), page.click('button[type=submit]')]);
  }
  await panel.locator('.card-holder-name').waitFor({ timeout: 10_000 });
  assert.equal(new URL(page.url()).origin + new URL(page.url()).pathname, `${live.origin}${returnPath}`);
  assert.equal(await panel.locator('.card-holder-name').textContent(), card.sim.name);
}
