import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import type { Request, RequestHandler } from 'express';
import type { Clock } from '../clock.js';
import { cookieName } from './browser-binding.js';

declare module 'express-session' {
  interface SessionData {
    /** When the session began (ms): it ends at the absolute lifetime however active it is. */
    startedAt?: number;
    /** The last request (ms, to the minute): past the idle time the session ends, by the app's clock. */
    lastSeenAt?: number;
  }
}

export interface SessionOptions {
  pool: pg.Pool;
  secret: string;
  secure: boolean;
  /** Idle timeout: the cookie and the stored session expire this long after the last request. */
  idleMs: number;
  /** Absolute lifetime from the session's start. */
  absoluteMs: number;
  clock: Clock;
  /** The cookie's name (before the `__Host-` prefix HTTPS adds); the citizen site's by default. */
  cookie?: string;
}

export const SESSION_COOKIE = 'nhi.sid';
const SEEN_GRANULARITY_MS = 60 * 1000;
/** The counter intranet's session: its own cookie, so a staff login and a citizen's never share a session. */
export const STAFF_SESSION_COOKIE = 'nhi.staff';

/** Sessions stored in PostgreSQL (table `session`, created by a migration), so any app process can serve any request. */
export function sessions(options: SessionOptions): RequestHandler[] {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({ pool: options.pool, tableName: 'session', createTableIfMissing: false, pruneSessionInterval: 15 * 60 });
  // What this process last wrote for each session during its request: a session someone already saved (passport's
  // login does) is not written a second time when the response ends.
  const written = new Map<string, string>();
  const set = store.set.bind(store);
  store.set = (sid, sess, done) => {
    // Entries go when their request ends; a write outside a request must not make the map grow without end.
    if (written.size > 10_000) written.clear();
    written.set(sid, snapshot(sess));
    set(sid, sess, done);
  };
  const middleware = session({
    name: cookieName(options.cookie ?? SESSION_COOKIE, options.secure),
    store,
    secret: options.secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.secure, maxAge: options.idleMs, path: '/' },
  });
  const now = () => options.clock.now().getTime();
  const endAtAbsoluteLifetime: RequestHandler = (req, _res, next) => {
    const startedAt = req.session?.startedAt;
    if (startedAt === undefined) return next();
    const at = now();
    const lastSeenAt = req.session.lastSeenAt ?? startedAt;
    if (at - startedAt < options.absoluteMs && at - lastSeenAt < options.idleMs) {
      // Kept to the minute, so a busy session is not written on every request for this alone.
      if (at - lastSeenAt >= SEEN_GRANULARITY_MS) req.session.lastSeenAt = at;
      return next();
    }
    req.session.regenerate((err) => next(err));
  };
  return [middleware, endAtAbsoluteLifetime, saveBeforeResponding(now, written)];
}

/**
 * A new session id for a change of identity (a card read claimed, a login), carrying the data over: an id a
 * third party planted or saw before cannot follow the person into what they do next.
 */
export function renewSessionId(req: Request): Promise<void> {
  const data = Object.fromEntries(Object.entries(req.session).filter(([key]) => key !== 'cookie'));
  return new Promise((resolve, reject) => {
    req.session.regenerate((err) => {
      if (err) return reject(err);
      Object.assign(req.session, data);
      resolve();
    });
  });
}

/** The session's data, without its cookie (whose expiry moves on every request). */
const snapshot = (s: Partial<session.SessionData> | undefined): string => (s ? JSON.stringify({ ...s, cookie: undefined }) : '');

/**
 * express-session sends the response head before its store write finishes, so a browser following a 303 (or
 * posting the form it just got) can reach the store first and find the old session: a card read claimed but not
 * yet there, a card cleared but still shown. A changed session is saved before anything of the response leaves.
 */
const saveBeforeResponding = (now: () => number, written: Map<string, string>): RequestHandler => (req, res, next) => {
  const before = snapshot(req.session);
  const beforeId = req.sessionID;
  const end = res.end;
  res.end = function endAfterSave(this: typeof res, ...args: unknown[]) {
    const current = req.session && snapshot(req.session);
    const savedAlready = req.session?.startedAt !== undefined && written.get(req.sessionID) === current;
    written.delete(req.sessionID);
    if (beforeId !== req.sessionID) written.delete(beforeId);
    if (!req.session || savedAlready || (current === before && req.sessionID === beforeId)) return (end as (...a: unknown[]) => typeof res).apply(this, args);
    req.session.startedAt ??= now();
    req.session.save((err) => {
      if (err) res.statusCode = 500; // the change the response speaks of was not kept
      (end as (...a: unknown[]) => typeof res).apply(this, args);
    });
    return this;
  } as typeof res.end;
  next();
};

/** A change of identity: a new session id and a new browser binding (so new CSRF tokens and card-read challenges). */
export async function renewIdentity(req: Request): Promise<void> {
  await renewSessionId(req);
  req.rotateBrowserBinding();
}
