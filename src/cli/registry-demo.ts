/**
 * `npm run registry:demo -- [--persons N] [--out folder] [--seed text]`: writes a synthetic, valid registry
 * data set (import it with `npm run registry:import -- <folder>`) and the matching simulated-card JSON files.
 * The card keys derive from DATA_DIR's demo-secret (created on first use). Refused when NODE_ENV=production.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { DemoRefusedError, refuseDemoInProduction, writeDemoRegistry } from '../modules/registry/index.js';

try {
  refuseDemoInProduction();
} catch (err) {
  if (!(err instanceof DemoRefusedError)) throw err;
  console.error(err.message);
  process.exit(1);
}

let options;
try {
  options = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: { persons: { type: 'string', default: '20' }, out: { type: 'string' }, seed: { type: 'string' } },
  }).values;
} catch (err) {
  console.error(`${(err as Error).message}\nusage: npm run registry:demo -- [--persons N] [--out folder] [--seed text]`);
  process.exit(2);
}
const persons = Number(options.persons);
if (!Number.isInteger(persons) || persons < 1) {
  console.error('--persons must be a whole number of at least 1');
  process.exit(2);
}
const { dataDir } = loadConfig();
const out = options.out ? resolve(options.out) : join(dataDir, 'demo-registry');
const started = performance.now();
const r = await writeDemoRegistry({ out, dataDir, persons, seed: options.seed });
console.log(`wrote ${out}: ${r.persons} persons, ${r.cards} cards (${r.voidCards} void), ${r.enrollments} enrollments, ` +
  `${r.cardFiles} simulated cards in cards/ (${((performance.now() - started) / 1000).toFixed(1)} s)`);
if (r.cardFilesSkipped) console.log(`${r.cardFilesSkipped} cards have no simulated-card file: only the first ${r.cardFiles} are written for large data sets.`);
