import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { axeViolations, launchChromium, listen, screenshot } from '../helpers/chromium.js';

describe('home page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let site: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    t = await buildTestApp();
    site = await listen(t.app);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await t?.close();
  });

  for (const javaScriptEnabled of [true, false]) {
    const mode = javaScriptEnabled ? 'js' : 'nojs';
    test(`renders, switches language and passes axe (${mode})`, async () => {
      const context = await browser.newContext({ javaScriptEnabled, locale: 'zh-TW' });
      const page = await context.newPage();
      const cspErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy/.test(m.text())) cspErrors.push(m.text());
      });
      await page.goto(`${site.origin}/`);
      assert.equal(await page.locator('h1').first().textContent(), '健保卡網路服務註冊');
      assert.match((await page.locator('.env-browser').textContent()) ?? '', /Chrome/);
      assert.equal((await page.locator('.env-supported').textContent())?.trim(), '✓ 支援');
      if (javaScriptEnabled) assert.equal(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx), 'object');
      await screenshot(page, `home-${mode}`);
      if (javaScriptEnabled) {
        // axe runs as page script, so only where scripts run; the no-JS page is the same server HTML.
        const violations = await axeViolations(page);
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
      }

      await page.click('.lang-switch a');
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.equal(await page.locator('h1').first().textContent(), 'NHI Card Online Services Registration');
      await screenshot(page, `home-en-${mode}`);
      assert.deepEqual(cspErrors, [], 'no CSP violations');
      await context.close();
    });
  }
});
