import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { StaffMemberSchema, type StaffMember } from '../entities/staff-member.js';

const sql = (em: EntityManager) => (em as SqlEntityManager).getConnection();

/** Staff accounts. The lockout count is one statement, so tries from several processes count right. */
export const staffMembers = {
  find(em: EntityManager, username: string): Promise<StaffMember | null> {
    return em.findOne(StaffMemberSchema, { username }, { disableIdentityMap: true });
  },

  list(em: EntityManager): Promise<StaffMember[]> {
    return em.find(StaffMemberSchema, {}, { orderBy: { username: 'asc' }, disableIdentityMap: true });
  },

  /** False when the username is taken. */
  async insert(em: EntityManager, row: StaffMember): Promise<boolean> {
    const result = await (em as SqlEntityManager).createQueryBuilder(StaffMemberSchema).insert(row).onConflict('username').ignore().execute('run');
    return result.affectedRows === 1;
  },

  /** A change that ends the account's sessions (role, password, disabling, unlocking): the epoch moves on. */
  async update(em: EntityManager, username: string, changes: Partial<StaffMember>, at: Date): Promise<boolean> {
    const rows = await sql(em).execute<{ username: string }[]>(
      `update staff_member set ${Object.keys(changes).map((key) => `${columnOf(key)} = ?`).join(', ')}${Object.keys(changes).length ? ',' : ''}
         session_epoch = session_epoch + 1, updated_at = ? where username = ? returning username`,
      [...Object.values(changes), at, username],
    );
    return rows.length === 1;
  },

  /** One more wrong password unless locked already; returns whether this try locked the account (null: locked before). */
  async countFailure(em: EntityManager, username: string, attempts: number, at: Date): Promise<{ lockedNow: boolean } | null> {
    const rows = await sql(em).execute<{ locked_at: Date | null }[]>(
      `update staff_member set consecutive_failures = consecutive_failures + 1,
         locked_at = case when consecutive_failures + 1 >= ? then ?::timestamptz end, updated_at = ?
       where username = ? and locked_at is null returning locked_at`,
      [attempts, at, at, username],
    );
    return rows[0] ? { lockedNow: rows[0].locked_at !== null } : null;
  },

  async resetCount(em: EntityManager, username: string): Promise<void> {
    await sql(em).execute(`update staff_member set consecutive_failures = 0 where username = ? and locked_at is null and consecutive_failures > 0`, [username]);
  },
};

const COLUMNS: Record<string, string> = {
  role: 'role',
  passwordHash: 'password_hash',
  passwordChangedAt: 'password_changed_at',
  disabledAt: 'disabled_at',
  consecutiveFailures: 'consecutive_failures',
  lockedAt: 'locked_at',
};

function columnOf(property: string): string {
  const column = COLUMNS[property];
  if (!column) throw new Error(`staff_member: no update of ${property}`);
  return column;
}
