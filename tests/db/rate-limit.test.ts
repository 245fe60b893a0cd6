import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import pg from 'pg';
import request from 'supertest';
import { createRateLimits, limitByAddress, RATE_LIMITS, type RateLimits } from '../../src/platform/http/index.js';
import { I18n, localeMiddleware } from '../../src/platform/i18n/index.js';
import { createViews } from '../../src/platform/views/index.js';
import { createTestDatabase } from '../helpers/db.js';

/** A stand-in for one app process: its own limiters on its own pool, a login route behind the limit. */
function appProcess(limits: RateLimits): express.Express {
  const app = express();
  app.locals.views = createViews({ cache: true });
  // As TRUST_PROXY would allow: the address comes from X-Forwarded-For, so the test can speak from several.
  app.set('trust proxy', true);
  app.use(localeMiddleware(new I18n(), false));
  app.use((_req, res, next) => {
    res.locals.serviceHours = '06:00-24:00';
    res.locals.langHref = (lang: string) => `/?lang=${lang}`;
    next();
  });
  app.post('/login', limitByAddress(limits.login), (_req, res) => {
    res.send('checked');
  });
  return app;
}

const LOGIN = RATE_LIMITS.login.points;

describe('rate limits per address, counted in PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let poolA: pg.Pool;
  let poolB: pg.Pool;
  let processA: express.Express;
  let processB: express.Express;

  before(async () => {
    database = await createTestDatabase();
    poolA = new pg.Pool({ connectionString: database.url, max: 2 });
    poolB = new pg.Pool({ connectionString: database.url, max: 2 });
    processA = appProcess(createRateLimits({ pool: poolA }));
    processB = appProcess(createRateLimits({ pool: poolB }));
  });
  after(async () => {
    await poolA.end();
    await poolB.end();
    await database.drop();
  });

  test(`the login limit lets ${LOGIN} posts a minute through from one address and refuses the next, not another address's`, async () => {
    assert.equal(LOGIN, 10);
    for (let i = 1; i <= LOGIN; i++) {
      const ok = await request(processA).post('/login').set('X-Forwarded-For', '203.0.113.5');
      assert.equal(ok.status, 200, `post ${i} of ${LOGIN} goes through`);
    }

    const refused = await request(processA).post('/login').set('X-Forwarded-For', '203.0.113.5');
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is seconds within the minute: ${refused.headers['retry-after']}`);
    assert.match(refused.headers['content-type'], /text\/html/);
    assert.match(refused.text, /<h1>請求過於頻繁<\/h1>/);
    assert.match(refused.text, /請過幾分鐘後再試一次/);

    const inEnglish = await request(processA).post('/login?lang=en').set('X-Forwarded-For', '203.0.113.5');
    assert.equal(inEnglish.status, 429);
    assert.match(inEnglish.text, /<h1>Too many requests<\/h1>/);
    assert.match(inEnglish.text, /try again in a few minutes/);

    const neighbour = await request(processA).post('/login').set('X-Forwarded-For', '198.51.100.7');
    assert.equal(neighbour.status, 200, 'another address has its own count');
  });

  test('two app processes on separate pools share one count for an address', async () => {
    const address = '192.0.2.44';
    const onA = Math.ceil(LOGIN / 2);
    for (let i = 0; i < onA; i++) {
      assert.equal((await request(processA).post('/login').set('X-Forwarded-For', address)).status, 200);
    }
    for (let i = onA; i < LOGIN; i++) {
      assert.equal((await request(processB).post('/login').set('X-Forwarded-For', address)).status, 200);
    }

    // Each process alone has seen fewer than the limit; together they have seen it all.
    const refusedByB = await request(processB).post('/login').set('X-Forwarded-For', address);
    assert.equal(refusedByB.status, 429);
    assert.ok(Number(refusedByB.headers['retry-after']) >= 1);
    const refusedByA = await request(processA).post('/login').set('X-Forwarded-For', address);
    assert.equal(refusedByA.status, 429);

    const row = await poolA.query<{ points: number }>('select points from rate_limit where key = $1', [`login:${address}`]);
    assert.equal(row.rows[0]?.points, LOGIN + 2, 'both processes counted into the same row');
  });

  test('the limits are the agreed numbers: card-read answers and claims 30 a minute, login-like posts 10, account steps 20, wrong device codes 5 in 10 minutes', () => {
    assert.deepEqual(RATE_LIMITS, {
      cardReadAnswers: { points: 30, durationSeconds: 60 },
      cardReadClaims: { points: 30, durationSeconds: 60 },
      login: { points: 10, durationSeconds: 60 },
      accountSteps: { points: 20, durationSeconds: 60 },
      deviceCodeFailures: { points: 5, durationSeconds: 600 },
    });
  });
});
