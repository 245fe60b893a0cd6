/**
 * Registry import throughput and memory, against PostgreSQL's own COPY of the same file.
 *
 *   npx tsx tests/bench/registry-import-memory.ts [N …]        (default: 100000 1000000)
 *
 * For each N: writes the demo registry of N persons, starts a fresh embedded PostgreSQL, times a plain
 * `COPY … FROM STDIN (FORMAT csv, HEADER)` of persons.csv into an unlogged table (the floor), then imports
 * persons.csv, cards.csv and enrollments.csv, sampling this process's RSS every 100 ms. Memory must not grow
 * with N; the persons import should stay within 3× the COPY.
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { entities } from '../../src/entities.js';
import { applyMigrations, createOrm, openEmbeddedDatabase } from '../../src/platform/db/index.js';
import { formatReport } from '../../src/platform/registry-import/index.js';
import { importRegistryFolder } from '../../src/modules/registry/index.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const MB = 1024 * 1024;

/** Peak RSS while `work` runs, sampled every 100 ms. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakMb: number; startMb: number }> {
  const startMb = process.memoryUsage().rss / MB;
  let peak = startMb;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / MB)), 100);
  try {
    const value = await work();
    return { value, peakMb: Math.max(peak, process.memoryUsage().rss / MB), startMb };
  } finally {
    clearInterval(timer);
  }
}

async function plainCopy(url: string, file: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`create unlogged table copy_floor (id_number char(10), name varchar(40), birth_date date, sex text,
      household_number char(8), village_code char(11), neighborhood smallint)`);
    const started = performance.now();
    await pipeline(createReadStream(file), client.query(copyFrom('copy copy_floor from stdin (format csv, header)')));
    const ms = performance.now() - started;
    await client.query('drop table copy_floor');
    return ms;
  } finally {
    await client.end();
  }
}

const results: string[] = [];
for (const n of sizes.length ? sizes : [100_000, 1_000_000]) {
  const work = mkdtempSync(join(tmpdir(), 'nhi-bench-'));
  try {
    const folder = join(work, 'registry');
    let t = performance.now();
    // Generated in a process of its own, so this process's memory is the import's alone.
    const gen = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/registry-demo.ts', '--persons', String(n), '--out', folder, '--seed', 'bench'],
      { cwd: join(import.meta.dirname, '..', '..'), env: { ...process.env, DATA_DIR: work } });
    const genS = (performance.now() - t) / 1000;
    const size = statSync(join(folder, 'persons.csv')).size / MB;
    console.log(`N=${n}: generated in ${genS.toFixed(1)} s; persons.csv ${size.toFixed(0)} MB; ${gen.stdout.split('\n')[0]}`);

    // A folder of its own: the server may run as another account, which must be able to enter it.
    const dataDir = mkdtempSync(join(tmpdir(), 'nhi-bench-pg-'));
    const db = await openEmbeddedDatabase(dataDir);
    try {
      const orm = await createOrm({ url: db.url, entities });
      await applyMigrations(orm);
      await orm.close(true);

      const copyMs = await plainCopy(db.url, join(folder, 'persons.csv'));
      console.log(`  plain COPY of persons.csv into an unlogged table: ${(copyMs / 1000).toFixed(2)} s`);

      // persons.csv alone first, for the ratio to COPY; then the whole folder (persons unchanged, cards, enrollments).
      const personsOnly = join(work, 'persons-only');
      mkdirSync(personsOnly);
      symlinkSync(join(folder, 'persons.csv'), join(personsOnly, 'persons.csv'));
      global.gc?.();
      t = performance.now();
      const persons = await withPeakRss(() => importRegistryFolder(db.url, personsOnly));
      const personsMs = performance.now() - t;
      const p = persons.value.imported[0]!;
      console.log(`  import ${formatReport(p)}; phases ms ${JSON.stringify(Object.fromEntries(Object.entries(p.phases).map(([k, v]) => [k, Math.round(v)])))}`);

      t = performance.now();
      const all = await withPeakRss(() => importRegistryFolder(db.url, folder, { log: (m) => console.log(`  import ${m}`) }));
      const allMs = performance.now() - t;
      if (persons.value.rejected || all.value.rejected) throw new Error(`rejected: ${JSON.stringify(persons.value.rejected ?? all.value.rejected)}`);

      const line = `N=${n}: persons import ${(personsMs / 1000).toFixed(2)} s = ${Math.round(n / (personsMs / 1000))} rows/s, ` +
        `plain COPY ${(copyMs / 1000).toFixed(2)} s, ratio ${(personsMs / copyMs).toFixed(2)}×; ` +
        `peak RSS ${persons.peakMb.toFixed(0)} MB (at start ${persons.startMb.toFixed(0)} MB); ` +
        `whole folder ${(allMs / 1000).toFixed(1)} s, peak RSS ${all.peakMb.toFixed(0)} MB; generation ${genS.toFixed(1)} s`;
      console.log(line);
      results.push(line);
    } finally {
      await db.release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
console.log(`\n${results.join('\n')}`);
