import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { useTestApp, type TestApp } from '../helpers/app.js';
import { startAppWithAgent, type AppWithAgent } from '../helpers/site.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard, postBack, readAtAgent, readFormOf, type TestAgent } from '../helpers/card-reads.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The bytes exactly as served, whatever the content type. */
async function download(t: TestApp, path: string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const res = await request(t.app).get(path).buffer(true).parse((r, cb) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.body as Buffer };
}

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

  test('shows browser, OS, support, the agent status (script poll and no-JS iframe) and the read form', async () => {
    const page = await new BrowserAgent(t.app, { 'User-Agent': FIREFOX_MAC }).get('/environment');
    assert.equal(page.status, 200);
    assert.match(page.$('.env-browser').text(), /Firefox 125/);
    assert.match(page.$('.env-os').text(), /macOS/);
    assert.equal(page.$('.env-supported').text().trim(), '✓ 支援');
    const live = page.$('.reader-status-live');
    assert.equal(live.attr('data-status-url'), `${agent.url}/v1/status`, 'the script polls the agent');
    assert.equal(live.attr('hx-get'), undefined, 'HTMX never swaps in what the agent port sends');
    assert.equal(live.attr('hx-disable'), '');
    assert.equal(live.attr('data-connected'), '伺服器連線正常');
    assert.match(live.attr('data-offline') ?? '', /^伺服器連線失敗/);
    assert.equal(page.$('noscript').text().includes(`${agent.url}/v1/status`), true, 'no-JS browsers get the status in an iframe');
    assert.equal(page.$('#card-panel-env-check form.card-read-form').attr('action'), `${agent.url}/v1/read`);
    // The agent answers the script's poll with the JSON it reads 伺服器連線正常 from.
    const status = await fetch(`${agent.url}/v1/status`, { headers: { Accept: 'application/json', Origin: 'http://localhost:3000' } });
    assert.equal(status.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    assert.deepEqual(await status.json(), { reader: true, card: false, version: '0.1.0', mode: 'sim' });
  });

  test('lists the agent downloads with the SHA-256 and size of the very files served', async () => {
    const page = await new BrowserAgent(t.app).get('/environment');
    const links = page.$('a.download');
    assert.equal(links.length, 4, 'the bundle and three launchers');
    for (const el of links.toArray()) {
      const href = page.$(el).attr('href')!;
      const row = page.$(el).closest('td');
      const served = await download(t, href);
      assert.equal(served.status, 200, href);
      assert.equal(sha256(served.body), row.find('code.checksum').text().trim(), href);
      assert.equal(row.find('.bytes').text().trim(), `${served.body.length} B`, href);
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

describe('reader agent launchers for the real site (PUBLIC_ORIGIN)', () => {
  const ORIGIN = 'https://register.example.tw';
  const t = useTestApp({ env: { PUBLIC_ORIGIN: ORIGIN } });

  test('each launcher allows exactly PUBLIC_ORIGIN, never localhost, and runs the bundle listed next to it', async () => {
    const page = await new BrowserAgent(t.app).get('/environment');
    const bundle = page.$('code.checksum').first().attr('data-file')!;
    assert.match(bundle, /^nhi-reader-agent-.+\.mjs$/);
    const launchers = page.$('code.checksum').toArray().slice(1).map((el) => page.$(el));
    assert.equal(launchers.length, 3, 'Windows, macOS, Linux');
    for (const code of launchers) {
      const name = code.attr('data-file')!;
      const served = await download(t, code.attr('data-href')!);
      assert.equal(served.status, 200, name);
      assert.equal(served.headers['content-disposition']?.replaceAll('"', ''), `attachment; filename=${name}`, 'saved, not shown');
      const text = served.body.toString('utf8');
      const allowed = [...text.matchAll(/--allow-origin\s+["']?([^"'\s]+)/g)].map((m) => m[1]);
      assert.deepEqual(allowed, [ORIGIN], name);
      assert.ok(!/localhost|127\.0\.0\.1/.test(text), `${name} names no local origin`);
      assert.ok(text.includes(bundle), `${name} starts ${bundle}`);
      assert.equal(sha256(served.body), code.text().trim(), `${name}: the checksum on the page is of the bytes served`);
    }
  });

  test('no launcher with a build-time origin is left among the static files', async () => {
    for (const name of ['start-reader-agent-windows.cmd', 'start-reader-agent-macos.command', 'start-reader-agent-linux.sh']) {
      assert.equal((await request(t.app).get(`/public/downloads/${name}`)).status, 404, name);
    }
    assert.equal((await request(t.app).get('/downloads/start-reader-agent-beos.sh')).status, 404);
  });
});
