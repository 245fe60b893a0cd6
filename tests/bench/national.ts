/**
 * The whole country once: imports a registry folder (e.g. 24 million persons written by
 * `npm run registry:demo -- --persons 24000000 --out <folder>`) into a fresh embedded PostgreSQL, then a delta of
 * DELTA_PERSONS (default 100,000) changed persons against it. Prints times, this process's peak RSS, and the
 * database's size on disk. Not part of `npm run bench` (it takes the better part of an hour and ~30 GB).
 *
 *   npx tsx tests/bench/national.ts <registry folder> <work folder>
 */
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { entities } from '../../src/entities.js';
import { applyMigrations, createOrm, openEmbeddedDatabase } from '../../src/platform/db/index.js';
import { importRegistryFolder } from '../../src/modules/registry/index.js';

const [folder, work] = process.argv.slice(2);
if (!folder || !work) throw new Error('usage: npx tsx tests/bench/national.ts <registry folder> <work folder>');
const deltaPersons = Number(process.env.DELTA_PERSONS ?? 100_000);
const MB = 1024 * 1024;

let peakMb = 0;
setInterval(() => (peakMb = Math.max(peakMb, process.memoryUsage().rss / MB)), 200).unref();

/** Every n-th person of persons.csv with a new name and neighbourhood: a day's changes. */
async function writeDelta(out: string): Promise<number> {
  mkdirSync(out, { recursive: true });
  const lines = createInterface({ input: createReadStream(join(folder!, 'persons.csv')), crlfDelay: Infinity });
  const target = createWriteStream(join(out, 'persons.csv'));
  let n = 0;
  let written = 0;
  let total = 0;
  for await (const line of lines) if (line) total++;
  const every = Math.max(1, Math.floor((total - 1) / deltaPersons));
  for await (const line of createInterface({ input: createReadStream(join(folder!, 'persons.csv')), crlfDelay: Infinity })) {
    if (!line) continue;
    if (n++ === 0) target.write(`${line}\r\n`);
    else if (n % every === 0 && written < deltaPersons) {
      const fields = line.split(',');
      fields[1] = `${fields[1]!.slice(0, 1)}新名`;
      fields[6] = String((Number(fields[6]) % 30) + 1);
      target.write(`${fields.join(',')}\r\n`);
      written++;
    }
  }
  target.end();
  await finished(target);
  return written;
}

const db = await openEmbeddedDatabase(join(work, 'pg'));
try {
  const orm = await createOrm({ url: db.url, entities });
  await applyMigrations(orm);
  await orm.close(true);
  const size = async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ bytes: string }>('select pg_database_size(current_database()) as bytes');
    await client.end();
    return (Number(rows[0]!.bytes) / 1024 ** 3).toFixed(1);
  };
  let started = performance.now();
  const whole = await importRegistryFolder(db.url, folder, { log: (line) => console.log(`  ${line}`) });
  if (whole.rejected) throw new Error(`rejected: ${JSON.stringify(whole.rejected)}`);
  console.log(`whole folder: ${((performance.now() - started) / 1000).toFixed(0)} s; peak RSS ${peakMb.toFixed(0)} MB; database ${await size()} GB`);
  for (const r of whole.imported)
    console.log(`  ${r.file} phases s ${JSON.stringify(Object.fromEntries(Object.entries(r.phases).map(([k, v]) => [k, Math.round(v / 1000)])))}`);

  const deltaFolder = join(work, 'delta');
  const changed = await writeDelta(deltaFolder);
  peakMb = 0;
  started = performance.now();
  const delta = await importRegistryFolder(db.url, deltaFolder, { log: (line) => console.log(`  ${line}`) });
  if (delta.rejected) throw new Error(`rejected: ${JSON.stringify(delta.rejected)}`);
  console.log(`delta of ${changed} changed persons: ${((performance.now() - started) / 1000).toFixed(1)} s; peak RSS ${peakMb.toFixed(0)} MB; database ${await size()} GB`);
} finally {
  await db.release();
}
