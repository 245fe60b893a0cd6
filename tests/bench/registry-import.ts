/**
 * Registry import throughput and memory, against PostgreSQL's own COPY of the same file.
 *
 *   npx tsx tests/bench/registry-import.ts [N …]        (default: 100000 1000000; `npm run bench` runs the default)
 *
 * For each N: writes the demo registry of N persons (in a process of its own), starts a fresh embedded PostgreSQL,
 * and times two floors for persons.csv: a plain COPY into a table shaped like `person` (same types, constraints and
 * indexes, logged: the goal is the import within 2× of it) and a COPY into a bare unlogged table of text columns
 * (what reading the file costs at all). Then imports persons.csv alone, then the whole folder (persons unchanged,
 * cards, enrollments), sampling this process's RSS every 100 ms: memory must not grow with N.
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

/** Milliseconds to COPY `file` into a fresh table made by `createSql` (named `copy_floor`), dropped afterwards. */
async function timedCopy(url: string, file: string, createSql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(createSql);
    await client.query('checkpoint');
    const started = performance.now();
    await pipeline(createReadStream(file), client.query(copyFrom('copy copy_floor from stdin (format csv, header)')));
    const ms = performance.now() - started;
    await client.query('drop table copy_floor');
    await client.query('checkpoint');
    return ms;
  } finally {
    await client.end();
  }
}

export interface ImportFigures {
  persons: number;
  importSeconds: number;
  shapedCopySeconds: number;
  bareCopySeconds: number;
  peakRssMb: number;
  /** This process's RSS when the import began (the bench process holds the app's too). */
  startRssMb: number;
  folderSeconds: number;
  folderPeakRssMb: number;
}

/** One size: generation, both floors, the persons import and the whole folder's. */
export async function benchRegistryImport(persons: number, log: (line: string) => void = console.log): Promise<ImportFigures> {
  const work = mkdtempSync(join(tmpdir(), 'nhi-bench-'));
  try {
    const folder = join(work, 'registry');
    let mark = performance.now();
    // Generated in a process of its own, so this process's memory is the import's alone.
    const generated = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/registry-demo.ts', '--persons', String(persons), '--out', folder, '--seed', 'bench'],
      { cwd: join(import.meta.dirname, '..', '..'), env: { ...process.env, DATA_DIR: work } });
    const generationSeconds = (performance.now() - mark) / 1000;
    const size = statSync(join(folder, 'persons.csv')).size / MB;
    log(`N=${persons}: generated in ${generationSeconds.toFixed(1)} s; persons.csv ${size.toFixed(0)} MB; ${generated.stdout.split('\n')[0]}`);

    // A folder of its own: the server may run as another account, which must be able to enter it.
    const dataDir = mkdtempSync(join(tmpdir(), 'nhi-bench-pg-'));
    const db = await openEmbeddedDatabase(dataDir);
    try {
      const orm = await createOrm({ url: db.url, entities });
      await applyMigrations(orm);
      await orm.close(true);

      const file = join(folder, 'persons.csv');
      const shapedMs = await timedCopy(db.url, file, 'create table copy_floor (like person including all)');
      const bareMs = await timedCopy(db.url, file, `create unlogged table copy_floor (id_number text, name text, birth_date text, sex text,
        household_number text, village_code text, neighborhood text)`);

      // persons.csv alone first, for the ratios to COPY; then the whole folder (persons unchanged, cards, enrollments).
      const personsOnly = join(work, 'persons-only');
      mkdirSync(personsOnly);
      symlinkSync(file, join(personsOnly, 'persons.csv'));
      global.gc?.();
      mark = performance.now();
      const alone = await withPeakRss(() => importRegistryFolder(db.url, personsOnly));
      const importMs = performance.now() - mark;
      const report = alone.value.imported[0]!;
      log(`  import ${formatReport(report)}${report.direct ? '' : ' (through csv-parse)'}; phases ms ${JSON.stringify(Object.fromEntries(Object.entries(report.phases).map(([k, v]) => [k, Math.round(v)])))}`);

      mark = performance.now();
      const all = await withPeakRss(() => importRegistryFolder(db.url, folder, { log: (message) => log(`  import ${message}`) }));
      const folderMs = performance.now() - mark;
      if (alone.value.rejected || all.value.rejected) throw new Error(`rejected: ${JSON.stringify(alone.value.rejected ?? all.value.rejected)}`);

      const figures: ImportFigures = {
        persons, importSeconds: importMs / 1000, shapedCopySeconds: shapedMs / 1000, bareCopySeconds: bareMs / 1000,
        peakRssMb: alone.peakMb, startRssMb: alone.startMb, folderSeconds: folderMs / 1000, folderPeakRssMb: all.peakMb,
      };
      log(`N=${persons}: persons import ${figures.importSeconds.toFixed(2)} s = ${Math.round(persons / figures.importSeconds)} rows/s; ` +
        `COPY into a table shaped like person ${figures.shapedCopySeconds.toFixed(2)} s, ratio ${(importMs / shapedMs).toFixed(2)}× (goal ≤ 2); ` +
        `COPY into a bare unlogged table ${figures.bareCopySeconds.toFixed(2)} s, ratio ${(importMs / bareMs).toFixed(2)}×; ` +
        `peak RSS ${alone.peakMb.toFixed(0)} MB (at start ${alone.startMb.toFixed(0)} MB); whole folder ${figures.folderSeconds.toFixed(1)} s, peak RSS ${all.peakMb.toFixed(0)} MB`);
      return figures;
    } finally {
      await db.release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const n of sizes.length ? sizes : [100_000, 1_000_000]) await benchRegistryImport(n);
}
