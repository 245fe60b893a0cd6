import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { insertTestCard } from '../helpers/card-reads.js';
import { axeViolations, screenshot } from '../helpers/chromium.js';
import { useChromiumSite } from '../helpers/site.js';

// A person at a real browser reads a simulated card on the home page: the form goes to the real agent process,
// the agent's page posts the signed read back, the claim shows the holder's name. Once with JS, once without.
describe('card read in Chromium', () => {
  const site = useChromiumSite();

  for (const javaScriptEnabled of [false, true]) {
    const mode = javaScriptEnabled ? 'js' : 'nojs';
    test(`reads a simulated card on the home page (${mode})`, async () => {
      site.t.clock.set(new Date());
      const card = await insertTestCard(site.t.services, { name: javaScriptEnabled ? '張家豪' : '王美玲' });
      await site.agent.insert(card.sim);
      const context = await site.browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      // The page's navigations, to tell what happened when a step times out.
      const trail: string[] = [];
      page.on('response', (r) => {
        if (r.request().isNavigationRequest()) trail.push(`${r.request().method()} ${r.url()} ${r.status()}`);
      });
      const explain = async (err: Error) => {
        throw new Error(`${err.message}\n${trail.join('\n')}\nat ${page.url()}: ${(await page.locator('main').textContent())?.replace(/\s+/g, ' ').slice(0, 300)}`);
      };
      await page.goto(`${site.live.origin}/`);
      if (javaScriptEnabled) {
        // The status is polled from the agent by public/js/reader-status.js.
        await page.locator('#card-panel-login .reader-status-live').filter({ hasText: '已插入健保卡' }).waitFor({ timeout: 10_000 });
      }
      // The read is a top-level navigation to the agent, whose page posts back by itself where scripts run;
      // without scripts it waits for 繼續.
      const readButton = page.locator('#card-panel-login form.card-read-form button[type=submit]');
      if (javaScriptEnabled) await readButton.click();
      else {
        await Promise.all([page.waitForURL(`${site.agent.url}/v1/read`), readButton.click()]);
        await Promise.all([page.waitForURL(`${site.live.origin}/`), page.click('button[type=submit]')]);
      }
      await page.locator('#card-panel-login .card-holder-name').waitFor({ timeout: 10_000 }).catch(explain);
      assert.equal(await page.locator('#card-panel-login .card-holder-name').textContent(), card.sim.name);
      await screenshot(page, `card-read-${mode}`);
      if (javaScriptEnabled) {
        const violations = await axeViolations(page);
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
      }
      // 清除 forgets the card (an HTMX swap with JS, a form post and redirect without).
      const clear = page.locator('#card-panel-login form.card-clear-form button[type=submit]');
      if (javaScriptEnabled) await clear.click();
      else await Promise.all([page.waitForNavigation({ url: `${site.live.origin}/` }), clear.click()]);
      await page.locator('#card-panel-login form.card-read-form').waitFor({ timeout: 10_000 }).catch(explain);
      assert.equal(await page.locator('#card-panel-login .card-holder-name').count(), 0);
      // The panel HTMX swapped in polls the agent again.
      if (javaScriptEnabled) {
        await page.locator('#card-panel-login .reader-status-live').filter({ hasText: '伺服器連線正常' }).waitFor({ timeout: 10_000 });
      }
      await context.close();
    });
  }
});
