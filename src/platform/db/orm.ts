import { MikroORM, RequestContext, type EntitySchema } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { RequestHandler } from 'express';
import pg from 'pg';
import { applyJobMigrations } from '../jobs/index.js';
import { DATABASE_CONNECT_TIMEOUT_MS } from './availability.js';
import { migrationsDir } from '../paths.js';

export type Orm = MikroORM;

export interface OrmOptions {
  url: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM's own entity list type
  entities: EntitySchema<any, any>[];
  poolMax?: number;
  debug?: boolean;
}

export async function createOrm(options: OrmOptions): Promise<Orm> {
  return MikroORM.init({
    clientUrl: options.url,
    entities: options.entities,
    extensions: [Migrator],
    // No request may share the global identity map: every request and job forks its own context.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: options.debug ?? false,
    pool: { min: 0, max: options.poolMax ?? 10 },
    // pg waits for a connection forever by default: a database that does not answer fails the request quickly instead.
    driverOptions: { connection: { connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS } },
    migrations: {
      path: migrationsDir,
      pathTs: migrationsDir,
      glob: '!(*.d).{js,ts}',
      tableName: 'mikro_orm_migrations',
      transactional: true,
      silent: true,
      // Tables outside the ORM's metadata (the session store's) are ours to keep.
      dropTables: false,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
    },
    discovery: { warnWhenNoEntities: false },
  });
}

/** Any fixed number: the advisory lock that keeps two starting processes from migrating at once. */
const MIGRATION_LOCK = 7_274_271;

/** Applies every committed migration not yet applied, one process at a time. Returns the names applied. */
export async function applyMigrations(orm: Orm): Promise<string[]> {
  // The lock lives on a connection of its own, so the migrator keeps the whole pool (which may be one connection).
  const lock = new pg.Client({ connectionString: orm.config.get('clientUrl') });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await orm.getMigrator().up();
    // The job queue's own schema, under the same lock.
    await applyJobMigrations(orm.config.get('clientUrl')!);
    return applied.map((m) => m.name);
  } finally {
    await lock.end();
  }
}

/** True when the database is reachable and no committed migration is pending. */
export async function databaseReady(orm: Orm): Promise<boolean> {
  try {
    await orm.em.getConnection().execute('select 1');
    const pending = await orm.getMigrator().getPendingMigrations();
    return pending.length === 0;
  } catch {
    return false;
  }
}

/** One ORM context (identity map) per request. */
export function requestContext(orm: Orm): RequestHandler {
  return (_req, _res, next) => RequestContext.create(orm.em, next);
}
