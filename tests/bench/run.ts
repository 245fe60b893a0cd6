/**
 * `npm run bench`: performance figures measured in one run on this machine, reported as ratios so they hold on
 * a noisy machine (QUALITY.md). Targets 127.0.0.1 only; every load is bounded in time.
 *   BENCH_SECONDS (default 10) — length of each throughput run; BENCH_HOLD_SECONDS (default 60) — the p99 hold;
 *   BENCH_BULK_ROWS (default 100000) — the rows of the bulk-registration upload; BENCH_LOGINS (default 200) — logins of
 *   each kind; BENCH_REGISTRATIONS (default 200) — whole registrations; BENCH_IMPORT_PERSONS (default 100000,1000000) —
 *   the registry import's sizes, run last on a database of their own (registry-import.ts). Ends with the capacity table.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createServices } from '../../src/services.js';
import { benchBulkUpload } from './bulk-upload.js';
import { argon2Rates, benchAppLogin, benchMailDelivery, benchRegistration, capacitySummary } from './capacity.js';
import { benchLogin } from './login.js';
import { benchRegistryImport, type ImportFigures } from './registry-import.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const holdSeconds = Number(process.env.BENCH_HOLD_SECONDS ?? 60);

async function listen(app: express.Express): Promise<{ url: string; server: Server }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface LoadResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

/** The load comes from autocannon in its own process, so the server under test keeps its core to itself. */
async function load(url: string, options: { duration: number; connections: number; overallRate?: number; cookie?: string }): Promise<LoadResult> {
  const bin = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'autocannon');
  const args = ['-j', '-d', String(options.duration), '-c', String(options.connections), ...(options.overallRate ? ['-R', String(options.overallRate)] : []),
    ...(options.cookie ? ['-H', `Cookie=${options.cookie}`] : []), url];
  const { stdout } = await promisify(execFile)(bin, args, { maxBuffer: 16 * 1024 * 1024 });
  const result = JSON.parse(stdout) as LoadResult;
  if (result.non2xx || result.errors) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result;
}

const dataDir = mkdtempSync(join(tmpdir(), 'nhi-bench-'));
const config = loadConfig({ ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir, SERVICE_HOURS: '00:00-24:00', DATABASE_URL: '', PUBLIC_ORIGIN: 'http://localhost:3000' });
// One load generator is one address: the per-address limits would measure themselves, not the pages.
const unlimited = { points: 1_000_000, durationSeconds: 60 };
const services = await createServices(config, { rateLimits: { login: unlimited, cardReadAnswers: unlimited, cardReadClaims: unlimited, accountSteps: unlimited } });
const hello = express();
hello.get('/', (_req, res) => {
  res.send('hello');
});
const bare = await listen(hello);
const site = await listen(createApp(services));
try {
  // Warm both up first (JIT, template cache, pools), so the first measured route does not pay for it.
  for (const url of [`${bare.url}/`, `${site.url}/announcements`, `${site.url}/`]) await load(url, { duration: 2, connections: 20 });
  const base = await load(`${bare.url}/`, { duration: seconds, connections: 20 });
  const page = await load(`${site.url}/announcements`, { duration: seconds, connections: 20 });
  const newVisitor = await load(`${site.url}/`, { duration: seconds, connections: 20 });
  // A returning visitor brings the browser-binding and CSRF cookies of an earlier view (still no session).
  const first = await fetch(`${site.url}/`);
  const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const returning = await load(`${site.url}/`, { duration: seconds, connections: 20, cookie });
  const ratio = (r: LoadResult) => (r.requests.average / base.requests.average).toFixed(2);
  console.log(`bare Express hello:                 ${base.requests.average.toFixed(0)} req/s`);
  console.log(`announcements page:                 ${page.requests.average.toFixed(0)} req/s  ratio ${ratio(page)} (target ≥ 0.5)`);
  console.log(`home page, returning visitor:       ${returning.requests.average.toFixed(0)} req/s  ratio ${ratio(returning)}`);
  console.log(`home page, new visitor:             ${newVisitor.requests.average.toFixed(0)} req/s  ratio ${ratio(newVisitor)} (target ≥ 0.3)`);

  // The home page as a returning visitor sees it, held at half its measured capacity.
  const rate = Math.max(10, Math.round(returning.requests.average * 0.5));
  const held = await load(`${site.url}/`, { duration: holdSeconds, connections: 20, overallRate: rate, cookie });
  console.log(`p99 latency, home page at ${rate} req/s held ${holdSeconds} s: ${held.latency.p99} ms (p50 ${held.latency.p50} ms)`);

  // As many logins at once as the machine has cores, each a fresh session with its card read.
  const login = await benchLogin(services, site.url, { people: Number(process.env.BENCH_LOGINS ?? 200), concurrency: cpus().length });
  console.log(`login (card read + password):       ${login.loginsPerSecond.toFixed(1)} /s  argon2id verify ${login.verifiesPerSecond.toFixed(1)} /s  ratio ${(login.loginsPerSecond / login.verifiesPerSecond).toFixed(2)} (target ≥ 0.8)`);

  const cores = cpus().length;
  const registration = await benchRegistration(services, site.url, { count: Number(process.env.BENCH_REGISTRATIONS ?? 200), concurrency: cores });
  const argon2 = await argon2Rates({ concurrency: cores, seconds });
  console.log(`registration without JS:            ${registration.perSecond.toFixed(1)} /s  argon2id hash ${argon2.hashesPerSecond.toFixed(1)} /s  ratio ${(registration.perSecond / argon2.hashesPerSecond).toFixed(2)} (target ≥ 0.8); ` +
    `${registration.siteRequestsPerRegistration} requests to the site each, ${registration.transactionsPerRegistration.toFixed(1)} database transactions`);
  const mail = await benchMailDelivery(services, { seconds: seconds * 3, from: registration.counters });
  console.log(`mail delivery (outbox worker):      ${mail.perSecond.toFixed(1)} mails/s (${mail.mails} delivered)`);
  const appLogin = await benchAppLogin(services, site.url, { people: Number(process.env.BENCH_LOGINS ?? 200), concurrency: cores });
  console.log(`app API login:                      ${appLogin.loginsPerSecond.toFixed(1)} /s  argon2id verify ${argon2.verifiesPerSecond.toFixed(1)} /s  ratio ${(appLogin.loginsPerSecond / argon2.verifiesPerSecond).toFixed(2)} (target ≥ 0.8)`);

  const bulkRows = Number(process.env.BENCH_BULK_ROWS ?? 100_000);
  const bulk = await benchBulkUpload(services, bulkRows);
  console.log(`bulk upload of ${bulkRows} rows:       ${bulk.totalSeconds.toFixed(1)} s end to end (taken in ${bulk.acceptSeconds.toFixed(2)} s, job ${bulk.processSeconds.toFixed(1)} s), ${bulk.accepted} registered, worker peak RSS ${bulk.peakRssMb} MB (goal < 30 s, < 300 MB)`);

  const summary = capacitySummary({
    cores, bare: base.requests.average, homeNew: newVisitor.requests.average, homeReturning: returning.requests.average, registration, argon2, login, appLogin, mail,
    hold: { rate, seconds: holdSeconds, p50: held.latency.p50, p99: held.latency.p99 },
  });
  console.log(summary.join('\n'));
} finally {
  bare.server.close();
  site.server.close();
  await services.close();
  rmSync(dataDir, { recursive: true, force: true });
}

// After the site is closed, so that the import has the machine to itself.
const imports: ImportFigures[] = [];
for (const persons of (process.env.BENCH_IMPORT_PERSONS ?? '100000,1000000').split(',').map(Number)) imports.push(await benchRegistryImport(persons));
console.log('\n| registry import (persons.csv) | seconds | × COPY into a table shaped like person (goal ≤ 2) | × COPY into a bare unlogged table | peak RSS (growth during the import) |');
console.log('|---|---|---|---|---|');
for (const r of imports)
  console.log(`| ${r.persons.toLocaleString('en')} persons | ${r.importSeconds.toFixed(2)} | ${(r.importSeconds / r.shapedCopySeconds).toFixed(2)} | ${(r.importSeconds / r.bareCopySeconds).toFixed(2)} | ${r.peakRssMb.toFixed(0)} MB (+${(r.peakRssMb - r.startRssMb).toFixed(0)} MB) |`);
