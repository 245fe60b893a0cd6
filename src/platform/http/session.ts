import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import type { RequestHandler } from 'express';

export interface SessionOptions {
  pool: pg.Pool;
  secret: string;
  secure: boolean;
  /** Idle timeout: the cookie and the stored session expire this long after the last request. */
  idleMs: number;
}

export const SESSION_COOKIE = 'nhi.sid';

/** Sessions stored in PostgreSQL (table `session`, created by a migration), so any app process can serve any request. */
export function sessions(options: SessionOptions): RequestHandler {
  const PgStore = connectPgSimple(session);
  return session({
    name: SESSION_COOKIE,
    store: new PgStore({ pool: options.pool, tableName: 'session', createTableIfMissing: false, pruneSessionInterval: 15 * 60 }),
    secret: options.secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.secure, maxAge: options.idleMs, path: '/' },
  });
}
