/**
 * `npm run migration:create -- [name]`: writes a migration for the difference between the entities and
 * the schema the committed migrations build, using a throwaway embedded PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entities } from '../entities.js';
import { applyMigrations, createOrm, openEmbeddedDatabase } from '../platform/db/index.js';

const name = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'nhi-migrate-'));
const db = await openEmbeddedDatabase(dir);
try {
  const orm = await createOrm({ url: db.url, entities });
  await applyMigrations(orm);
  const result = await orm.getMigrator().createMigration(undefined, false, false, name);
  console.log(result.fileName ? `created migrations/${result.fileName}` : 'no changes: the schema matches the entities');
  await orm.close(true);
} finally {
  await db.release();
  rmSync(dir, { recursive: true, force: true });
}
