import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from '../helpers/app.js';
import { startAppWithAgent, type AppWithAgent } from '../helpers/site.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard, postBack, readAtAgent, readFormOf, type TestAgent } from '../helpers/card-reads.js';

const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0';

describe('environment check page (系統設定須知 / 檢測健保卡認證)', () => {
  let t: TestApp;
  let agent: TestAgent;
  let running: AppWithAgent;
  before(async () => {
    running = await startAppWithAgent();
    ({ t, agent } = running);
  });
  after(async () => running?.close());

  test('shows browser, OS, support, the agent status (HTMX poll and no-JS iframe) and the read form', async () => {
    const page = await new BrowserAgent(t.app, { 'User-Agent': FIREFOX_MAC }).get('/environment');
    assert.equal(page.status, 200);
    assert.match(page.$('.env-browser').text(), /Firefox 125/);
    assert.match(page.$('.env-os').text(), /macOS/);
    assert.equal(page.$('.env-supported').text().trim(), '✓ 支援');
    assert.equal(page.$('.reader-status-live').attr('hx-get'), `${agent.url}/v1/status`);
    assert.equal(page.$('noscript').text().includes(`${agent.url}/v1/status`), true, 'no-JS browsers get the status in an iframe');
    assert.equal(page.$('#card-panel-env-check form.card-read-form').attr('action'), `${agent.url}/v1/read`);
    // The agent's status fragment says 伺服器連線正常 once it answers.
    const status = await fetch(`${agent.url}/v1/status`, { headers: { 'HX-Request': 'true', Origin: 'http://localhost:3000' } });
    assert.match(await status.text(), /伺服器連線正常/);
  });

  test('lists the agent downloads with the SHA-256 of the very files served', async () => {
    const page = await new BrowserAgent(t.app).get('/environment');
    const checksums = page.$('code.checksum');
    assert.ok(checksums.length >= 4, 'the bundle and three launchers');
    for (const el of checksums.toArray()) {
      const name = page.$(el).attr('data-file')!;
      const served = await request(t.app).get(`/public/downloads/${name}`).buffer(true).parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      assert.equal(served.status, 200, name);
      assert.equal(createHash('sha256').update(served.body as Buffer).digest('hex'), page.$(el).text().trim(), name);
    }
  });

  test('讀取健保卡 → 驗證健保卡 → 清除, without JS', async () => {
    const card = await insertTestCard(t.services, { name: '林志明' });
    await agent.insert(card.sim);
    const browser = new BrowserAgent(t.app);
    const form = readFormOf(await browser.get('/environment'), 'env-check');
    const back = await postBack(t.app, await readAtAgent(form));
    const read = await browser.get(back.headers.location!);
    assert.equal(read.url, '/environment');
    assert.equal(read.$('#card-panel-env-check .card-holder-name').text(), '林志明');
    const verified = await browser.get(read.$('a.verify-card').attr('href')!);
    assert.match(verified.$('#verification').text(), /健保卡驗證成功/);
    assert.equal(verified.$('.verified-card-number').text(), `${card.sim.cardNumber.slice(0, 4)}****${card.sim.cardNumber.slice(-4)}`);
    const cleared = await browser.submit({}, '#card-panel-env-check form.card-clear-form');
    assert.equal(cleared.$('#card-panel-env-check .card-holder-name').length, 0);
    assert.equal(cleared.$('#verification').length, 0);
  });

  test('the English page', async () => {
    const page = await new BrowserAgent(t.app).get('/environment?lang=en');
    assert.match(page.$('h1').text(), /Setup instructions/);
    assert.match(page.$('main').text(), /Download the reader agent/);
  });
});
