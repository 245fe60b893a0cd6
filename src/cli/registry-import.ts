/**
 * `npm run registry:import -- <folder>`: imports persons.csv, cards.csv and enrollments.csv (whichever the
 * folder holds, in that order) into the database of DATABASE_URL or the embedded PostgreSQL of DATA_DIR.
 * Each file is all-or-nothing; the first bad row rejects its file and stops the import (exit code 1).
 * A demo registry folder (written by registry:demo) is refused when NODE_ENV=production.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { entities } from '../entities.js';
import { applyMigrations, createOrm, openDatabase } from '../platform/db/index.js';
import { DemoRefusedError, importRegistryFolder, isDemoRegistry, refuseDemoInProduction, registryFiles } from '../modules/registry/index.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
if (args.length !== 1 || args[0]!.startsWith('-')) {
  console.error(`usage: npm run registry:import -- <folder>\n  the folder holds any of ${registryFiles.map((f) => f.file).join(', ')}`);
  process.exit(2);
}
const folder = resolve(args[0]!);
if (!existsSync(folder) || !statSync(folder).isDirectory()) {
  console.error(`${folder} is not a folder`);
  process.exit(2);
}
try {
  // Refused before the database is opened (importRegistryFolder checks again).
  if (isDemoRegistry(folder)) refuseDemoInProduction();
} catch (err) {
  if (!(err instanceof DemoRefusedError)) throw err;
  console.error(`${folder} is a demo registry: ${err.message}`);
  process.exit(1);
}

const started = performance.now();
const log = (msg: string) => console.log(msg);
const database = await openDatabase(loadConfig(), log);
let code = 0;
try {
  const orm = await createOrm({ url: database.directUrl, entities, poolMax: 1 });
  try {
    const applied = await applyMigrations(orm);
    if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
  } finally {
    await orm.close(true);
  }

  log(`importing ${folder}`);
  const result = await importRegistryFolder(database.directUrl, folder, { log });
  if (result.rejected) {
    const { file, line, reason } = result.rejected;
    console.error(`${file}:${line}: ${reason}`);
    console.error(`${file} was rejected: nothing of it was applied.`);
    if (result.imported.length) console.error(`Imported before it and kept: ${result.imported.map((r) => r.file).join(', ')}.`);
    const notRead = registryFiles.map((f) => f.file).filter((f) => f !== file && !result.imported.some((r) => r.file === f) && existsSync(resolve(folder, f)));
    if (notRead.length) console.error(`Not read: ${notRead.join(', ')}.`);
    code = 1;
  }
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  code = 1;
} finally {
  await database.release();
}
process.exit(code);
