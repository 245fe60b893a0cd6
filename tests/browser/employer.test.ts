import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Page } from 'playwright-core';
import { insertTestCard, type TestAgent, type TestCard } from '../helpers/card-reads.js';
import { axeViolations, screenshot } from '../helpers/chromium.js';
import { asFile, enrol, PASSWORD, unitWithStaff } from '../helpers/employers.js';
import { useChromiumSite, type LiveSite } from '../helpers/site.js';

// 健保卡註冊申請整批資料上傳 in a real browser: the clerk logs in with card and password, uploads a file and follows
// its progress to the results, the background worker running as in an app process. Without JavaScript the page
// reloads itself; with it, HTMX polls the progress box.
describe('employer bulk upload in Chromium', () => {
  const site = useChromiumSite();

  for (const javaScriptEnabled of [false, true]) {
    const mode = javaScriptEnabled ? 'js' : 'nojs';
    test(`a clerk uploads a file and follows its progress to the results (${mode})`, { timeout: 120_000 }, async () => {
      const { t } = site;
      t.clock.set(new Date());
      const { unit, clerk } = await unitWithStaff(t);
      const employees = await Promise.all(['簡一', '簡二', '簡三'].map((name) => insertTestCard(t.services, { name })));
      await enrol(t, employees.map((e) => e.sim.idNumber), { unitCode: unit });
      const rows = [...employees.map((e, i) => [e.sim.idNumber, e.sim.name, '0690131', `b${mode}${i}@example.com.tw`, '']), ['A100000000', '無名', '0690131', 'x@example.com.tw', '']];
      const file = join(tmpdir(), `名冊-${mode}-${Date.now()}.csv`);
      writeFileSync(file, await asFile(rows, 'big5'));
      await t.services.jobs.start();

      const context = await site.browser.newContext({ javaScriptEnabled, locale: 'zh-TW' });
      const page = await context.newPage();
      const origin = site.live.origin;
      const check = async (name: string) => {
        await screenshot(page, `employer-${name}-${mode}`);
        if (javaScriptEnabled) {
          const violations = await axeViolations(page);
          assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 2)}`);
        }
      };
      await page.goto(`${origin}/`);
      await readCard(page, site.live, site.agent, clerk.card, javaScriptEnabled);
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForURL(`${origin}/account`), page.click('form.login-form button[type=submit]')]);
      await Promise.all([page.waitForURL(`${origin}/employer/units/${unit}`), page.click('.employer-link a')]);
      await check('menu');
      await Promise.all([page.waitForURL(`${origin}/employer/units/${unit}/uploads/new`), page.click(`a[href="/employer/units/${unit}/uploads/new"]`)]);
      assert.equal(await page.locator('.clerk-name').textContent(), '陳承辦');
      await page.setInputFiles('#file', file);
      await check('upload');
      await Promise.all([page.waitForURL(/\/employer\/uploads\/[0-9a-f-]{36}$/), page.click('form.bulk-upload-form button[type=submit]')]);
      // The worker takes the job within a second or two; the page follows it (a reload or a poll) to the results.
      await page.locator('.upload-state', { hasText: '處理完成' }).waitFor({ timeout: 30_000 });
      await page.locator('.result-table').waitFor({ timeout: 10_000 });
      assert.match((await page.locator('.upload-counts').textContent()) ?? '', /已處理 4 \/ 4 筆（成功 3，失敗 1）/);
      assert.equal(await page.locator('.result-table tbody tr').count(), 4);
      await check('results');
      await context.close();
    });
  }
});

async function readCard(page: Page, live: LiveSite, agent: TestAgent, card: TestCard, javaScriptEnabled: boolean) {
  await agent.insert(card.sim);
  const panel = page.locator('#card-panel-login');
  const readButton = panel.locator('form.card-read-form button[type=submit]');
  if (javaScriptEnabled) await readButton.click();
  else {
    await Promise.all([page.waitForURL(`${agent.url}/v1/read`), readButton.click()]);
    await Promise.all([page.waitForURL(`${live.origin}/`), page.click('button[type=submit]')]);
  }
  await panel.locator('.card-holder-name').waitFor({ timeout: 10_000 });
}
