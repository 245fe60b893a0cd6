import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { LoginLockoutSchema } from './entities/login-lockout.js';

export interface LockState {
  consecutiveFailures: number;
  lockedAt: Date | null;
}

const sql = (em: EntityManager) => (em as SqlEntityManager).getConnection();

/** The lockout counter. Every change is one statement, so concurrent tries in several processes count right. */
export const lockouts = {
  async find(em: EntityManager, idNumber: string): Promise<LockState | null> {
    const row = await em.findOne(LoginLockoutSchema, { idNumber }, { disableIdentityMap: true });
    return row ? { consecutiveFailures: row.consecutiveFailures, lockedAt: row.lockedAt ?? null } : null;
  },

  /**
   * One more wrong password, unless already locked (tries while locked do not count). Returns the count after this
   * try and whether this try locked it; null when the person was locked already.
   */
  async countFailure(em: EntityManager, idNumber: string, attempts: number, at: Date): Promise<{ failures: number; lockedNow: boolean } | null> {
    const rows = await sql(em).execute<{ consecutive_failures: number; locked_at: Date | null }[]>(
      `insert into login_lockout (id_number, consecutive_failures, locked_at, updated_at)
         values (?, 1, case when 1 >= ? then ?::timestamptz end, ?)
       on conflict (id_number) do update set
         consecutive_failures = login_lockout.consecutive_failures + 1,
         locked_at = case when login_lockout.consecutive_failures + 1 >= ? then excluded.updated_at end,
         updated_at = excluded.updated_at
       where login_lockout.locked_at is null
       returning consecutive_failures, locked_at`,
      [idNumber, attempts, at, at, attempts],
    );
    const row = rows[0];
    return row ? { failures: row.consecutive_failures, lockedNow: row.locked_at !== null } : null;
  },

  /** A right password: the count starts again, but never for a locked person (the lock holds until lifted). */
  async resetCount(em: EntityManager, idNumber: string): Promise<void> {
    await em.nativeDelete(LoginLockoutSchema, { idNumber, lockedAt: null });
  },

  /** Lifts the lock and the count (a password reset, a counter unlock). Whether there was anything to lift. */
  async clear(em: EntityManager, idNumber: string): Promise<boolean> {
    return (await em.nativeDelete(LoginLockoutSchema, { idNumber })) > 0;
  },
};
