import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { insertTestCard, readInto as readCardInto, type TestCard } from '../helpers/card-reads.js';

// How long what a card read gives a browser lasts: the card in the session, and the session itself.
describe('session and card lifetimes', () => {
  const t = useTestApp({ env: { CARD_READ_FRESH_MINUTES: '10' } });

  const holder = (browser: BrowserAgent) => browser.get('/').then((page) => page.$('#card-panel-login .card-holder-name').text());

  /** Reads `card` into the browser's login panel as the agent would, signing with the card's own key. */
  async function readInto(browser: BrowserAgent, card: TestCard): Promise<void> {
    await browser.get('/');
    await readCardInto(t, browser, card, 'login');
  }

  test('a verified card goes stale after CARD_READ_FRESH_MINUTES and must be read again', async () => {
    t.clock.set(new Date('2026-03-02T04:00:00Z'));
    const card = await insertTestCard(t.services, { name: '周家豪' });
    const browser = new BrowserAgent(t.app);
    await readInto(browser, card);
    assert.equal(await holder(browser), '周家豪');
    t.clock.advance(9 * 60 * 1000);
    assert.equal(await holder(browser), '周家豪', 'still fresh after 9 minutes');
    t.clock.advance(61 * 1000);
    const page = await browser.get('/');
    assert.equal(page.$('#card-panel-login .card-holder-name').text(), '');
    assert.equal(page.$('#card-panel-login form.card-read-form').length, 1, 'the panel asks for a new read');
  });

  test('a session ends after 30 idle minutes (the clock moved), not before', async () => {
    t.clock.set(new Date('2026-03-02T04:00:00Z'));
    const card = await insertTestCard(t.services, { name: '何佳穎', sex: 'F' });
    const browser = new BrowserAgent(t.app);
    await readInto(browser, card);
    const started = browser.cookies()['nhi.sid'];
    t.clock.advance(29 * 60 * 1000);
    await browser.get('/');
    assert.equal(browser.cookies()['nhi.sid'], started, 'still the session after 29 idle minutes');
    t.clock.advance(30 * 60 * 1000 + 1000);
    await browser.get('/');
    assert.notEqual(browser.cookies()['nhi.sid'], started, 'a session idle for 30 minutes is not continued');
  });

  test('a session ends 12 hours after it began, however active', async () => {
    t.clock.set(new Date('2026-03-02T00:00:00Z'));
    const card = await insertTestCard(t.services, { name: '許淑芬', sex: 'F' });
    const browser = new BrowserAgent(t.app);
    await readInto(browser, card);
    const started = browser.cookies()['nhi.sid'];
    assert.ok(started);
    // Active every 20 minutes (inside the idle limit), reading the card again whenever it goes stale.
    for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
      t.clock.advance(20 * 60 * 1000);
      await browser.get('/');
    }
    assert.equal(browser.cookies()['nhi.sid'], started, 'the same session until then');
    t.clock.advance(20 * 60 * 1000);
    await browser.get('/');
    assert.notEqual(browser.cookies()['nhi.sid'], started, 'a session past 12 hours is not continued');
    const [row] = await t.services.orm.em.fork().getConnection().execute('select count(*)::int as n from session where sid = ?', [decodeURIComponent(started!).slice(2).split('.')[0]]);
    assert.equal(row.n, 0, 'and it is gone from the store');
  });
});
