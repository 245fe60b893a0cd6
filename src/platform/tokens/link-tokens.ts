import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../clock.js';
import { LinkTokenSchema } from './entity.js';

export interface IssueRequest {
  /** What the link does, e.g. 'registration' or 'password-reset' (at most 20 characters). */
  purpose: string;
  /** Whom it is for, e.g. an ID number (at most 20 characters). */
  subject: string;
  ttlMs: number;
}

export type LinkTokenCheck =
  | { status: 'valid'; subject: string; expiresAt: Date }
  | { status: 'expired' | 'used' | 'superseded' | 'unknown' };

/** 32 random bytes in base64url have no padding and are exactly 43 characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const MAX_KEY = 20;

/** The stored form of a token; base64url keeps it the same length as the token. */
function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * What a flow may keep between requests instead of the token (e.g. in the session): it names the link
 * to checkHashed/consumeHashed but, like the table, cannot be turned back into a working link.
 */
export const linkTokenHash = (token: string): string => (TOKEN_SHAPE.test(token) ? hashOf(token) : '');
const HASH_SHAPE = TOKEN_SHAPE;

function checkRequest({ purpose, subject, ttlMs }: IssueRequest): void {
  // Longer would fail in the database anyway; saying which field keeps the error useful.
  if (!purpose || purpose.length > MAX_KEY) throw new Error(`link token purpose must be 1-${MAX_KEY} characters`);
  if (!subject || subject.length > MAX_KEY) throw new Error(`link token subject must be 1-${MAX_KEY} characters`);
  if (!(ttlMs > 0)) throw new Error('link token ttlMs must be positive');
}

/**
 * Single-use, expiring link tokens. Every method takes the caller's EntityManager, so a token is
 * written in the same transaction as the change it belongs to and the outbox mail that carries it.
 */
/** Kept this long past expiry, so an old link still says "expired" rather than "unknown". */
const KEEP_EXPIRED_MS = 30 * 24 * 60 * 60 * 1000;

/** Removes links expired for more than 30 days (the daily housekeeping). Returns how many. */
export async function deleteExpiredLinkTokens(em: EntityManager, now: Date): Promise<number> {
  return em.nativeDelete(LinkTokenSchema, { expiresAt: { $lt: new Date(now.getTime() - KEEP_EXPIRED_MS) } });
}

export class LinkTokens {
  constructor(private readonly clock: Clock) {}

  /** Returns the token to put in the link; earlier open links of the same purpose and subject stop working. */
  async issue(em: EntityManager, request: IssueRequest): Promise<string> {
    const { purpose, subject, ttlMs } = request;
    checkRequest(request);
    const now = this.clock.now();
    const token = randomBytes(32).toString('base64url');
    // Only the newest mail's link works: an older mail found later in an inbox is harmless.
    await this.supersedeAt(em, purpose, subject, now);
    // Inserted now, not at flush, so a check in the same transaction already sees it.
    await em.insert(LinkTokenSchema, {
      hash: hashOf(token),
      purpose,
      subject,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlMs),
      usedAt: null,
      supersededAt: null,
    });
    return token;
  }

  /**
   * issue() for many links at once (a bulk registration's batch): one update voids the subjects' earlier open links,
   * one insert writes them all. Returns the tokens in the order of `requests`; of one purpose and subject given twice,
   * only the later link works.
   */
  async issueMany(em: EntityManager, requests: readonly IssueRequest[]): Promise<string[]> {
    if (!requests.length) return [];
    requests.forEach(checkRequest);
    const now = this.clock.now();
    const tokens = requests.map(() => randomBytes(32).toString('base64url'));
    const last = new Map(requests.map((r, i) => [`${r.purpose}\u0000${r.subject}`, i]));
    const sql = em as SqlEntityManager;
    // One statement per purpose, `subject = any(…)`: whatever the planner knows of the table, it is one pass (a join
    // planned on stale statistics can scan the whole table once per request).
    for (const purpose of new Set(requests.map((r) => r.purpose))) {
      await sql.execute(
        `update link_token set superseded_at = ? where purpose = ? and subject = any(array[?]::text[]) and used_at is null and superseded_at is null`,
        [now, purpose, requests.filter((r) => r.purpose === purpose).map((r) => r.subject)],
        'run',
      );
    }
    await sql.execute(
      `insert into link_token (hash, purpose, subject, created_at, expires_at, used_at, superseded_at)
       select hash, purpose, subject, ?::timestamptz, expires_at, null, superseded_at
       from unnest(array[?]::text[], array[?]::text[], array[?]::text[], array[?]::timestamptz[], array[?]::timestamptz[]) as t(hash, purpose, subject, expires_at, superseded_at)`,
      [
        now,
        tokens.map(hashOf),
        requests.map((r) => r.purpose),
        requests.map((r) => r.subject),
        requests.map((r) => new Date(now.getTime() + r.ttlMs)),
        requests.map((r, i) => (last.get(`${r.purpose}\u0000${r.subject}`) === i ? null : now)),
      ],
      'run',
    );
    return tokens;
  }

  /** What the token is now, without using it (e.g. to show the form a link leads to). */
  async check(em: EntityManager, purpose: string, token: string): Promise<LinkTokenCheck> {
    return this.checkHashed(em, purpose, linkTokenHash(token));
  }

  /** check() by the token's linkTokenHash. */
  async checkHashed(em: EntityManager, purpose: string, hash: string): Promise<LinkTokenCheck> {
    if (!HASH_SHAPE.test(hash)) return { status: 'unknown' };
    return this.statusOf(em, purpose, hash, this.clock.now());
  }

  /** Uses the token: of two concurrent consumes exactly one is 'valid', the other 'used'. */
  async consume(em: EntityManager, purpose: string, token: string): Promise<LinkTokenCheck> {
    return this.consumeHashed(em, purpose, linkTokenHash(token));
  }

  /** consume() by the token's linkTokenHash. */
  async consumeHashed(em: EntityManager, purpose: string, hash: string): Promise<LinkTokenCheck> {
    if (!HASH_SHAPE.test(hash)) return { status: 'unknown' };
    const now = this.clock.now();
    // Conditional update: the row lock makes a concurrent consume wait, then find used_at set.
    const claimed = await em.nativeUpdate(
      LinkTokenSchema,
      { hash, purpose, usedAt: null, supersededAt: null, expiresAt: { $gt: now } },
      { usedAt: now },
    );
    const found = await this.find(em, purpose, hash);
    if (claimed === 1 && found) return { status: 'valid', subject: found.subject, expiresAt: found.expiresAt };
    return found ? this.classify(found, now) : { status: 'unknown' };
  }

  /** Voids every open token of this purpose for the subject (registration deleted, e-mail changed). */
  async supersedeAll(em: EntityManager, purpose: string, subject: string): Promise<number> {
    return this.supersedeAt(em, purpose, subject, this.clock.now());
  }

  /** Housekeeping: removes tokens that expired before the given time. Returns how many. */
  async deleteExpiredBefore(em: EntityManager, before: Date): Promise<number> {
    return em.nativeDelete(LinkTokenSchema, { expiresAt: { $lt: before } });
  }

  private async supersedeAt(em: EntityManager, purpose: string, subject: string, now: Date): Promise<number> {
    // Used tokens keep their 'used' answer; already superseded ones keep their first time.
    return em.nativeUpdate(LinkTokenSchema, { purpose, subject, usedAt: null, supersededAt: null }, { supersededAt: now });
  }

  private async statusOf(em: EntityManager, purpose: string, hash: string, now: Date): Promise<LinkTokenCheck> {
    const found = await this.find(em, purpose, hash);
    return found ? this.classify(found, now) : { status: 'unknown' };
  }

  /** Read past the identity map: the updates above change rows behind the ORM's back. */
  private async find(em: EntityManager, purpose: string, hash: string) {
    // A token of another purpose is 'unknown': a reset link cannot confirm a registration.
    return em.findOne(LinkTokenSchema, { hash, purpose }, { disableIdentityMap: true });
  }

  private classify(
    row: { usedAt?: Date | null; supersededAt?: Date | null; expiresAt: Date; subject: string },
    now: Date,
  ): LinkTokenCheck {
    if (row.usedAt) return { status: 'used' };
    // "A newer link was sent" tells the person more than "expired".
    if (row.supersededAt) return { status: 'superseded' };
    if (row.expiresAt.getTime() <= now.getTime()) return { status: 'expired' };
    return { status: 'valid', subject: row.subject, expiresAt: row.expiresAt };
  }
}
