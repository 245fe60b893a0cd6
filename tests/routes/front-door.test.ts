import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { useTestApp } from '../helpers/app.js';
import { BrowserAgent } from '../helpers/browser-agent.js';

// What anyone on the internet can make the front door do without a card.
describe('the front door', () => {
  const t = useTestApp({
    env: { TRUST_PROXY: 'loopback' },
    rateLimits: { cardReadAnswers: { points: 3, durationSeconds: 60 }, cardReadClaims: { points: 3, durationSeconds: 60 }, login: { points: 3, durationSeconds: 60 }, accountSteps: { points: 3, durationSeconds: 60 } },
  });

  const count = async (table: string) => Number((await t.services.orm.em.fork().getConnection().execute(`select count(*) as n from ${table}`))[0].n);

  test('1,000 cookieless visits to the home page write nothing: no session, no card-read request', async () => {
    const before = { sessions: await count('session'), reads: await count('card_read_request'), audit: await count('audit_event') };
    for (let i = 0; i < 1000; i++) {
      const res = await request(t.app).get('/');
      assert.equal(res.status, 200);
    }
    assert.deepEqual({ sessions: await count('session'), reads: await count('card_read_request'), audit: await count('audit_event') }, before);
  });

  test('card-read answers from one address are limited: the next gets 429 with Retry-After; another address does not', async () => {
    const from = (address: string) => request(t.app).post(`/card-reads/${randomBytes(24).toString('base64url')}`).set('X-Forwarded-For', address).type('form').send({ assertion: 'x' });
    for (let i = 0; i < 3; i++) assert.equal((await from('203.0.113.10')).status, 400);
    const refused = await from('203.0.113.10');
    assert.equal(refused.status, 429);
    assert.match(refused.headers['retry-after'] ?? '', /^\d+$/);
    assert.match(refused.text, /請求過於頻繁/);
    assert.equal((await from('203.0.113.11')).status, 400);
  });

  test('claims are limited per address too', async () => {
    const claim = () => request(t.app).get(`/card-reads/${randomBytes(24).toString('base64url')}/claim`).set('X-Forwarded-For', '203.0.113.20');
    for (let i = 0; i < 3; i++) assert.notEqual((await claim()).status, 429);
    assert.equal((await claim()).status, 429);
  });

  test('login posts from one address are limited, even with a valid CSRF token', async () => {
    const browser = new BrowserAgent(t.app, { 'X-Forwarded-For': '203.0.113.30' });
    await browser.get('/');
    for (let i = 0; i < 3; i++) assert.equal((await browser.submit({ password: 'abc123' }, 'form.login-form')).status, 400);
    await browser.get('/');
    assert.equal((await browser.submit({ password: 'abc123' }, 'form.login-form')).status, 429);
  });

  test('the registration, resend and forgot-password steps share one limit per address', async () => {
    const browser = new BrowserAgent(t.app, { 'X-Forwarded-For': '203.0.113.40' });
    const statuses: number[] = [];
    for (const path of ['/resend-confirmation', '/forgot-password', '/resend-confirmation', '/forgot-password']) {
      await browser.get(path);
      statuses.push((await browser.submit({ method: 'stored' }, `form[action="${path}"]`)).status);
    }
    assert.deepEqual(statuses, [400, 400, 400, 429]);
    const other = new BrowserAgent(t.app, { 'X-Forwarded-For': '203.0.113.41' });
    await other.get('/forgot-password');
    assert.equal((await other.submit({ method: 'stored' }, 'form[action="/forgot-password"]')).status, 400);
  });
});
