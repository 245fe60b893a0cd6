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
export function sessions(options: SessionOptions): RequestHandler[] {
  const PgStore = connectPgSimple(session);
  const middleware = session({
    name: SESSION_COOKIE,
    store: new PgStore({ pool: options.pool, tableName: 'session', createTableIfMissing: false, pruneSessionInterval: 15 * 60 }),
    secret: options.secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.secure, maxAge: options.idleMs, path: '/' },
  });
  return [middleware, saveBeforeResponding];
}

/** The session's data, without its cookie (whose expiry moves on every request). */
const snapshot = (s: Partial<session.SessionData> | undefined): string => (s ? JSON.stringify({ ...s, cookie: undefined }) : '');

/**
 * express-session sends the response head before its store write finishes, so a browser following a 303 (or
 * posting the form it just got) can reach the store first and find the old session: a card read claimed but not
 * yet there, a card cleared but still shown. A changed session is saved before anything of the response leaves.
 */
const saveBeforeResponding: RequestHandler = (req, res, next) => {
  const before = snapshot(req.session);
  const end = res.end;
  res.end = function endAfterSave(this: typeof res, ...args: unknown[]) {
    if (!req.session || snapshot(req.session) === before) return (end as (...a: unknown[]) => typeof res).apply(this, args);
    req.session.save((err) => {
      if (err) res.statusCode = 500; // the change the response speaks of was not kept
      (end as (...a: unknown[]) => typeof res).apply(this, args);
    });
    return this;
  } as typeof res.end;
  next();
};
