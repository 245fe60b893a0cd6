import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { entities } from '../../src/entities.js';
import { applyMigrations, createOrm, databaseReady } from '../../src/platform/db/index.js';

async function emptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.TEST_PG_ADMIN_URL!;
  const name = `empty_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  return {
    url: admin.replace(/\/postgres$/, `/${name}`),
    async drop() {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

test('two processes starting at once on an empty database migrate it once, and it is then ready', async () => {
  const db = await emptyDatabase();
  const [a, b] = await Promise.all([createOrm({ url: db.url, entities }), createOrm({ url: db.url, entities })]);
  try {
    assert.equal(await databaseReady(a), false, 'not ready before migrating');
    const [appliedA, appliedB] = await Promise.all([applyMigrations(a), applyMigrations(b)]);
    assert.ok(appliedA.length + appliedB.length > 0);
    assert.equal(Math.min(appliedA.length, appliedB.length), 0, 'one of them found nothing left to do');
    assert.equal(await databaseReady(a), true);
    // The committed migrations build exactly what the entities describe.
    const diff = await a.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, safe: true, dropTables: false });
    assert.equal(diff.trim(), '', diff);
  } finally {
    await a.close(true);
    await b.close(true);
    await db.drop();
  }
});
