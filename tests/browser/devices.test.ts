import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations, screenshot } from '../helpers/chromium.js';
import { newDevice } from '../helpers/devices.js';
import { PASSWORD, registerActive, type LoginSite } from '../helpers/logins.js';
import { useChromiumSite } from '../helpers/site.js';

// 行動裝置認證 and 行動裝置管理作業 in Chromium with JavaScript off: log in with the card, produce a device code (its QR
// image drawn by the server), bind it as the app would, then 停用裝置 and 啟用裝置 by plain form posts.
describe('devices in Chromium (no JS)', () => {
  const site = useChromiumSite();

  test('device code with its QR image, bind through the API, disable and enable the device', { timeout: 120_000 }, async () => {
    site.t.clock.set(new Date());
    // registerActive uses only the app's services of the site.
    const { card } = await registerActive({ t: site.t } as LoginSite);
    const context = await site.browser.newContext({ javaScriptEnabled: false, locale: 'zh-TW' });
    const page = await context.newPage();
    const origin = site.live.origin;
    const mainText = async () => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ');

    // Log in: the card through the real agent (its page waits for 繼續 without JS), the password, 登入.
    await page.goto(`${origin}/`);
    await site.agent.insert(card.sim);
    await Promise.all([page.waitForURL(`${site.agent.url}/v1/read`), page.locator('#card-panel-login form.card-read-form button[type=submit]').click()]);
    await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')]);
    await page.fill('form[action="/login"] #password', PASSWORD);
    await Promise.all([page.waitForURL(`${origin}/account`), page.locator('form[action="/login"] button[type=submit]').click()]);

    // 行動裝置認證 → 產生裝置認證碼.
    await Promise.all([page.waitForURL(`${origin}/account/device-verification`), page.locator('.service-menu a', { hasText: '行動裝置認證' }).click()]);
    assert.match(await mainText(), new RegExp(`${card.sim.idNumber.slice(0, 6)}\\*\\*\\*\\*`));
    await Promise.all([page.waitForLoadState(), page.locator('form.device-code-form button[type=submit]', { hasText: '產生裝置認證碼' }).click()]);
    await page.locator('.device-code-qr svg').waitFor({ timeout: 10_000 });
    const box = await page.locator('.device-code-qr svg').boundingBox();
    assert.ok(box && box.width >= 100, 'the QR image is drawn at a scannable size');
    const code = ((await page.locator('.device-code strong').textContent()) ?? '').trim();
    assert.match(code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/);
    assert.match(await mainText(), /裝置認證碼有效時間至 民國\d+年\d+月\d+日 \d\d:\d\d:\d\d/);
    await screenshot(page, 'devices-code-nojs');

    // The app binds with the code.
    const device = newDevice('Pixel 8');
    const bound = await fetch(`${origin}/api/app/v1/devices`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code, ...device }) });
    assert.equal(bound.status, 201);

    // 行動裝置管理作業: the row, 停用裝置, 啟用裝置.
    await page.goto(`${origin}/account/devices`);
    const row = page.locator('tr.device-row');
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('.device-id').textContent(), device.deviceId);
    assert.equal(await row.locator('.device-status').textContent(), '啟用中');
    await Promise.all([page.waitForURL(`${origin}/account/devices?done=disable`), row.locator('button', { hasText: '停用裝置' }).click()]);
    assert.equal(await page.locator('tr.device-row .device-status').textContent(), '停用');
    await screenshot(page, 'devices-disabled-nojs');
    await Promise.all([page.waitForURL(`${origin}/account/devices?done=enable`), page.locator('tr.device-row button', { hasText: '啟用裝置' }).click()]);
    assert.equal(await page.locator('tr.device-row .device-status').textContent(), '啟用中');
    await context.close();
  });

  test('with JavaScript: the code panel and the device row are swapped by HTMX, and axe finds nothing on either page', { timeout: 120_000 }, async () => {
    site.t.clock.set(new Date());
    const { card } = await registerActive({ t: site.t } as LoginSite);
    const context = await site.browser.newContext({ javaScriptEnabled: true, locale: 'zh-TW' });
    const page = await context.newPage();
    const origin = site.live.origin;
    const noViolations = async (where: string) => {
      const violations = await axeViolations(page);
      assert.deepEqual(violations, [], `${where}: ${JSON.stringify(violations, null, 2)}`);
    };

    // With scripts the agent's page posts the read back by itself.
    await page.goto(`${origin}/`);
    await site.agent.insert(card.sim);
    await page.locator('#card-panel-login form.card-read-form button[type=submit]').click();
    await page.locator('#card-panel-login .card-holder-name').waitFor({ timeout: 10_000 });
    await page.fill('form[action="/login"] #password', PASSWORD);
    await Promise.all([page.waitForURL(`${origin}/account`), page.locator('form[action="/login"] button[type=submit]').click()]);

    await page.goto(`${origin}/account/device-verification`);
    await page.locator('form.device-code-form button[type=submit]').click();
    await page.locator('.device-code-qr svg').waitFor({ timeout: 10_000 });
    assert.equal(page.url(), `${origin}/account/device-verification`, 'the code came by an HTMX swap, not a page load');
    await noViolations('行動裝置認證');
    await screenshot(page, 'devices-code-js');
    const code = ((await page.locator('.device-code strong').textContent()) ?? '').trim();
    const device = newDevice('iPhone 15');
    const bound = await fetch(`${origin}/api/app/v1/devices`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code, ...device }) });
    assert.equal(bound.status, 201);

    await page.goto(`${origin}/account/devices`);
    await noViolations('行動裝置管理作業');
    await page.locator('tr.device-row button', { hasText: '停用裝置' }).click();
    await page.locator('tr.device-row .device-status', { hasText: '停用' }).waitFor({ timeout: 10_000 });
    assert.equal(page.url(), `${origin}/account/devices`, 'the row was swapped in place');
    await noViolations('行動裝置管理作業, a device disabled');
    await screenshot(page, 'devices-disabled-js');
    await context.close();
  });
});
