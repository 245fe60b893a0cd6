import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { insertTestCard } from '../helpers/card-reads.js';
import { axeViolations, screenshot } from '../helpers/chromium.js';
import { useChromiumSite } from '../helpers/site.js';

// 系統設定須知 / 檢測健保卡認證 as a person sees it: the agent's connection shows live with JS (polled as JSON, written as text) and in
// the framed status page without JS; a read and 驗證健保卡 work either way.
describe('environment check page in Chromium', () => {
  const site = useChromiumSite();

  for (const javaScriptEnabled of [true, false]) {
    const mode = javaScriptEnabled ? 'js' : 'nojs';
    test(`shows the agent connection, reads and verifies a card (${mode})`, async () => {
      site.t.clock.set(new Date());
      const card = await insertTestCard(site.t.services, { name: '李淑芬', sex: 'F' });
      await site.agent.insert(card.sim);
      const context = await site.browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      await page.goto(`${site.live.origin}/environment`);
      const status = javaScriptEnabled
        ? page.locator('#card-panel-env-check .reader-status-live').filter({ hasText: '伺服器連線正常' })
        : page.frameLocator('#card-panel-env-check iframe.reader-status-frame').locator('.agent-status');
      await status.waitFor({ timeout: 10_000 });
      assert.match((await status.textContent()) ?? '', /伺服器連線正常/);
      if (javaScriptEnabled) {
        const violations = await axeViolations(page);
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
      }
      await Promise.all([page.waitForURL(javaScriptEnabled ? `${site.live.origin}/environment` : `${site.agent.url}/v1/read`), page.click('#card-panel-env-check form.card-read-form button[type=submit]')]);
      if (!javaScriptEnabled) {
        // 繼續 on the agent's page, which without scripts waits for the person.
        await Promise.all([page.waitForURL(`${site.live.origin}/environment`), page.click('button[type=submit]')]);
      }
      await page.locator('#card-panel-env-check .card-holder-name').waitFor();
      await Promise.all([page.waitForURL(`${site.live.origin}/environment?verify=1#verification`), page.click('a.verify-card')]);
      await page.locator('#verification').waitFor();
      assert.match((await page.locator('#verification').textContent()) ?? '', /健保卡驗證成功/);
      await status.waitFor({ timeout: 10_000 });
      await screenshot(page, `environment-${mode}`);
      await context.close();
    });
  }
});
