import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { insertTestCard } from '../helpers/card-reads.js';
import { launchChromium, listen, screenshot } from '../helpers/chromium.js';
import { ManualClock } from '../../src/platform/clock.js';
import { freePort, startLiveSite, type LiveSite } from '../helpers/site.js';

// Markup that, swapped in by HTMX, would post 清除 with our CSRF token as soon as it lands, and a script.
const HOSTILE_MARKUP =
  '<button hx-post="/card-reads/clear" hx-trigger="load" hx-swap-oob="true" id="x">x</button>' +
  '<img src="/card-reads/clear?img" onerror="window.__pwned=1"><script>window.__pwned=1</script>';

type Answer = 'html' | 'json-markup-fields' | 'json-markup-error';

/** A program squatting on the agent's port: answers every status poll, for any Accept, with what `answer` says. */
async function startHostileAgent(port: number): Promise<{ url: string; answer: Answer; polls: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const state = { answer: 'html' as Answer, polls: [] as IncomingHttpHeaders[] };
  const server: Server = createServer((req, res) => {
    const cors = {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
      'Access-Control-Allow-Methods': 'GET, POST',
      'Access-Control-Allow-Private-Network': 'true',
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    state.polls.push(req.headers);
    if (state.answer === 'html') {
      res.writeHead(200, { ...cors, 'Content-Type': 'text/html; charset=utf-8' }).end(`<div class="agent-status">${HOSTILE_MARKUP}</div>`);
    } else {
      const body =
        state.answer === 'json-markup-fields'
          ? { reader: HOSTILE_MARKUP, card: HOSTILE_MARKUP, version: HOSTILE_MARKUP, mode: HOSTILE_MARKUP }
          : { reader: true, card: false, version: HOSTILE_MARKUP, mode: HOSTILE_MARKUP, error: HOSTILE_MARKUP };
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

const statusText = async (page: Page, panel = '#card-panel-login') =>
  (await page.locator(`${panel} .reader-status-live`).innerText()).replace(/\s+/g, ' ').trim();

describe('reader status in Chromium: text only, whoever answers on the agent port', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  describe('a hostile program on the agent port', () => {
    let t: TestApp;
    let hostile: Awaited<ReturnType<typeof startHostileAgent>>;
    let site: Awaited<ReturnType<typeof listen>>;
    before(async () => {
      hostile = await startHostileAgent(await freePort());
      const port = await freePort();
      t = await buildTestApp({
        env: { AGENT_ORIGIN: hostile.url, PUBLIC_ORIGIN: `http://localhost:${port}`, SERVICE_HOURS: '00:00-24:00' },
        clock: new ManualClock(new Date()),
      });
      site = await listen(t.app, port);
    });
    after(async () => {
      await site?.close();
      await t?.close();
      await hostile?.close();
    });

    const cases: Array<{ answer: Answer; shows: RegExp }> = [
      { answer: 'html', shows: /^伺服器連線失敗/ },
      { answer: 'json-markup-fields', shows: /^伺服器連線失敗/ },
      // A well-formed status with an unknown error: the markup is printed, never parsed.
      { answer: 'json-markup-error', shows: /伺服器連線正常.*讀卡機已連接.*讀卡程式回報錯誤：<button hx-post="\/card-reads\/clear"/ },
    ];
    for (const { answer, shows } of cases) {
      test(`answering ${answer}: no request to the app, no hx-post element, the status is plain text`, async () => {
        hostile.answer = answer;
        const context = await browser.newContext({ javaScriptEnabled: true });
        const page = await context.newPage();
        const toApp: string[] = [];
        page.on('request', (r) => {
          if (r.url().startsWith(site.origin)) toApp.push(`${r.method()} ${r.resourceType()} ${new URL(r.url()).pathname}`);
        });
        await page.goto(`${site.origin}/`);
        const pageLoads = [...toApp];
        const pollsBefore = hostile.polls.length;
        // Three poll cycles at least (every 2 s).
        await page.waitForTimeout(6_500);
        assert.ok(hostile.polls.length - pollsBefore >= 2, `the page kept polling (${hostile.polls.length - pollsBefore} polls)`);
        assert.deepEqual(toApp, pageLoads, 'nothing but the page load itself reached the app');
        for (const line of toApp) assert.match(line, /^GET (document|stylesheet|script|image) /);
        assert.equal(await page.locator('[hx-post="/card-reads/clear"]').count(), 0);
        assert.equal(await page.locator('#x, .reader-status-live *:not(p)').count(), 0, 'only our own text lines in the status');
        assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
        assert.match(await statusText(page), shows);
        for (const headers of hostile.polls.slice(pollsBefore)) {
          assert.equal(headers.accept, 'application/json');
          assert.equal(headers['x-csrf-token'], undefined, 'our CSRF token never goes to the agent port');
          assert.equal(headers['hx-request'], undefined);
        }
        await screenshot(page, `reader-status-hostile-${answer}`);
        await context.close();
      });
    }
  });

  describe('the real (simulated) agent', () => {
    let live: LiveSite;
    before(async () => {
      live = await startLiveSite();
    });
    after(async () => live?.close());

    test('shows 伺服器連線正常 and follows the card tray, in the page language', async () => {
      await live.agent.remove();
      const context = await browser.newContext({ javaScriptEnabled: true });
      const page = await context.newPage();
      await page.goto(`${live.origin}/`);
      const live_ = page.locator('#card-panel-login .reader-status-live');
      await live_.filter({ hasText: '請插入健保卡' }).waitFor({ timeout: 10_000 });
      assert.equal(await statusText(page), '伺服器連線正常 讀卡機已連接 請插入健保卡 模擬讀卡機');
      assert.equal(await live_.getAttribute('hx-disable'), '');

      const card = await insertTestCard(live.t.services, { name: '陳怡君', sex: 'F' });
      await live.agent.insert(card.sim);
      await live_.filter({ hasText: '已插入健保卡' }).waitFor({ timeout: 10_000 });

      await page.goto(`${live.origin}/environment?lang=en`);
      await page.locator('#card-panel-env-check .reader-status-live').filter({ hasText: 'Card inserted' }).waitFor({ timeout: 10_000 });
      assert.equal(await statusText(page, '#card-panel-env-check'), 'Connected to the reader agent Reader connected Card inserted Simulated reader');

      await live.agent.stop();
      await page.locator('#card-panel-env-check .reader-status-live').filter({ hasText: 'Connection failed' }).waitFor({ timeout: 10_000 });
      await context.close();
    });
  });
});
