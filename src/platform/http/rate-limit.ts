import type { RequestHandler } from 'express';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { render } from '../views/index.js';
import { clientAddress } from './client.js';

export interface RateLimit {
  /** Requests one address may make in a window. */
  points: number;
  /** The window, fixed from the address's first request in it. */
  durationSeconds: number;
}

/** Per-address limits, by name; the name is also the limiter's key prefix in the table. */
export const RATE_LIMITS = {
  /** Card-read answers the reader agent's form posts back (POST /card-reads/:id). */
  cardReadAnswers: { points: 30, durationSeconds: 60 },
  /** Claims of a verified card read (GET /card-reads/:id/claim). */
  cardReadClaims: { points: 30, durationSeconds: 60 },
  /** Login and the other POSTs that check a password or a code. */
  login: { points: 10, durationSeconds: 60 },
  /** The registration and recovery steps that check a person's data or mail someone (identity, resend, forgot). */
  accountSteps: { points: 20, durationSeconds: 60 },
  /** Wrong device codes (行動裝置認證), counted per device ID and per address; only failures are counted. */
  deviceCodeFailures: { points: 5, durationSeconds: 600 },
} as const satisfies Record<string, RateLimit>;

export type RateLimitName = keyof typeof RATE_LIMITS;
export type RateLimits = Record<RateLimitName, RateLimiterAbstract>;

/** Created by a migration in rate-limiter-flexible's layout (key, points, expire), shared by every limiter. */
export const RATE_LIMIT_TABLE = 'rate_limit';

export interface RateLimitOptions {
  pool: pg.Pool;
  /** Other numbers for some limiters (tests, tuning); the rest keep RATE_LIMITS. */
  limits?: Partial<Record<RateLimitName, RateLimit>>;
}

/**
 * The named limiters, counting in PostgreSQL so that every app process on the database shares one count.
 * The library reads Date.now() itself, so these windows follow the system clock, not an injected Clock.
 */
export function createRateLimits(options: RateLimitOptions): RateLimits {
  const limiter = (name: RateLimitName, sweepsExpired: boolean): RateLimiterAbstract => {
    const limit = options.limits?.[name] ?? RATE_LIMITS[name];
    return new RateLimiterPostgres({
      storeClient: options.pool,
      storeType: 'pool',
      tableName: RATE_LIMIT_TABLE,
      tableCreated: true,
      keyPrefix: name,
      points: limit.points,
      duration: limit.durationSeconds,
      // An address already over the limit is refused from memory for the rest of its window, sparing the database a flood.
      inMemoryBlockOnConsumed: limit.points + 1,
      // The sweep deletes every expired row of the shared table, so one limiter running it is enough.
      clearExpiredByTimeout: sweepsExpired,
    });
  };
  return {
    cardReadAnswers: limiter('cardReadAnswers', true),
    cardReadClaims: limiter('cardReadClaims', false),
    login: limiter('login', false),
    accountSteps: limiter('accountSteps', false),
    deviceCodeFailures: limiter('deviceCodeFailures', false),
  };
}

/**
 * Counts each request against the client's address (as TRUST_PROXY resolves it); over the limit it answers
 * 429 with Retry-After and the error page. Mount it after the language and page-locals middleware.
 */
export function limitByAddress(limiter: RateLimiterAbstract): RequestHandler {
  return async (req, res, next) => {
    let refused: RateLimiterRes | undefined;
    try {
      await limiter.consume(clientAddress(req));
    } catch (rejection) {
      // The library rejects with a RateLimiterRes when over the limit, with an Error when the store failed.
      if (!(rejection instanceof RateLimiterRes)) return next(rejection);
      refused = rejection;
    }
    if (!refused) return next();
    res.set('Retry-After', String(Math.max(1, Math.ceil(refused.msBeforeNext / 1000))));
    render(req, res, 'errors/too-many', {}, { status: 429 });
  };
}
