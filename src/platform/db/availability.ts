import { ConnectionException } from '@mikro-orm/core';

/** How long opening a database connection may take before the request (or job poll) gives up and answers "try later". */
export const DATABASE_CONNECT_TIMEOUT_MS = 2000;

/** Socket errors of a database that cannot be reached (stopped, restarting, host gone). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/** SQLSTATEs of a server shutting down or starting, or full; class 08 (connection exceptions) is matched apart. */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What pg, pg-pool and knex say when a connection ends or cannot be had (these errors carry no code). */
const MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^timeout expired$/, // pg's own connectionTimeoutMillis, on a client opened without its pool (knex's)
  /is not queryable/,
  /^Knex: Timeout acquiring a connection/,
  /^Connection ended unexpectedly/,
];

/**
 * True when the error says the database is unreachable for now (not that the query was wrong): the caller answers
 * "try again later" rather than "something went wrong". Looks through wrapped errors (MikroORM's, `cause`).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let current = err, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    if (current instanceof ConnectionException) return true;
    const { code, name, message, cause } = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (name === 'KnexTimeoutError') return true;
    if (typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message))) return true;
    current = cause;
  }
  return false;
}
