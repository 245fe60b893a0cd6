import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createServices } from '../../src/services.js';
import { useTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

// N app processes on one PostgreSQL hold N × (2 × DATABASE_POOL_MAX + JOB_CONCURRENCY + 2) connections at most.
describe('the pools are as large as DATABASE_POOL_MAX says', () => {
  const t = useTestApp({ env: { DATABASE_POOL_MAX: '3' } });

  test('the ORM pool and the session pool each open at most 3 connections', async () => {
    assert.equal(t.services.sessionPool.options.max, 3);
    assert.equal(t.services.orm.config.get('pool')?.max, 3);
  });
});

// Behind PgBouncer in transaction mode, DATABASE_URL is the pooler and DATABASE_DIRECT_URL the database itself.
describe('DATABASE_DIRECT_URL carries what a transaction-mode pooler would break', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nhi-direct-'));
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const env = (url: string, directUrl: string) => loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, DATABASE_DIRECT_URL: directUrl, DATA_DIR: dataDir, PUBLIC_ORIGIN: 'http://localhost:3000' });

  test('migrations run over the direct connection', async () => {
    const pooled = await createTestDatabase();
    cleanups.push(() => pooled.drop());
    const adminUrl = process.env.TEST_PG_ADMIN_URL!;
    const name = `direct_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const directUrl = adminUrl.replace(/\/postgres$/, `/${name}`);
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    });
    // A database of its own stands for the direct route here, so that where the migrations went can be seen.
    const services = await createServices(env(pooled.url, directUrl));
    await services.close();
    const direct = new pg.Client({ connectionString: directUrl });
    await direct.connect();
    const { rows } = await direct.query<{ applied: number }>('select count(*)::int as applied from mikro_orm_migrations');
    await direct.end();
    const committed = readdirSync(join(import.meta.dirname, '..', '..', 'migrations')).filter((f) => /^Migration.*\.ts$/.test(f)).length;
    assert.equal(rows[0]!.applied, committed);
  });

  test('the job queue listens on the direct connection, and no pooled connection does', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const withName = (name: string) => `${database.url}${database.url.includes('?') ? '&' : '?'}application_name=${name}`;
    const services = await createServices(env(withName('pooled'), withName('direct')), { skipMigrations: true });
    cleanups.push(() => services.close());
    services.startBackground();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      let listening: { application_name: string }[] = [];
      for (let tries = 0; tries < 100 && !listening.length; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        ({ rows: listening } = await client.query(`select application_name from pg_stat_activity where datname = current_database() and query ilike 'listen %'`));
      }
      assert.deepEqual(listening.map((row) => row.application_name), ['direct']);
    } finally {
      await client.end();
    }
  });
});
