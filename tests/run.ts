/**
 * The test entry point (`npm test`, `npm run test:browser`): starts ONE embedded PostgreSQL for the run,
 * builds a template database with every committed migration, then runs node's test runner; each test file
 * clones the template into its own database (tests/helpers/db.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { entities } from '../src/entities.js';
import { applyMigrations, createOrm, openEmbeddedDatabase } from '../src/platform/db/index.js';

const root = join(import.meta.dirname, '..');
const browser = process.argv.includes('--browser');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const suites = browser ? ['browser'] : ['unit', 'db', 'routes'];
let files = suites.flatMap((s) => {
  try {
    return testFiles(join(root, 'tests', s));
  } catch {
    return [];
  }
});
if (filters.length) files = files.filter((f) => filters.some((flt) => relative(root, f).includes(flt)));
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}

const dataDir = mkdtempSync(join(tmpdir(), 'nhi-test-'));
const started = Date.now();
const db = await openEmbeddedDatabase(dataDir);
let code = 1;
try {
  const template = 'nhi_template';
  const adminUrl = db.url.replace(/\/nhi$/, '/postgres');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${template}`);
  await admin.end();
  const templateUrl = db.url.replace(/\/nhi$/, `/${template}`);
  const orm = await createOrm({ url: templateUrl, entities });
  await applyMigrations(orm);
  await orm.close(true);
  console.log(`# test database ready in ${Date.now() - started} ms`);

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', TEST_PG_ADMIN_URL: adminUrl, TEST_PG_TEMPLATE: template } },
  );
  code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
} finally {
  await db.release();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`# total time ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(code);
