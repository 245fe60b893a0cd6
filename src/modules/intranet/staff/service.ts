import type { EntityManager } from '@mikro-orm/core';
import type { AuditEntry, AuditLog, Outcome } from '../../../platform/audit/index.js';
import type { Clock } from '../../../platform/clock.js';
import type { Orm } from '../../../platform/db/index.js';
import { hashPassword, verifyPassword } from '../../../platform/passwords/index.js';
import type { StaffMember, StaffRole } from '../entities/staff-member.js';
import { staffMembers } from './repository.js';

/** Who a staff session is for: the account and its epoch at login (a later change of the account ends it). */
export interface StaffUser {
  username: string;
  role: StaffRole;
  epoch: number;
}

/** What the staff list shows. */
export interface StaffSummary {
  username: string;
  role: StaffRole;
  disabled: boolean;
  locked: boolean;
  createdAt: Date;
  createdBy: string | null;
}

export type Where = { clientAddress: string };
export type StaffChange = { role: StaffRole } | 'disable' | 'enable' | 'unlock';
/** How an admin's change from the staff page went: 'own_account' is refused, 'unchanged' touched nothing. */
export type AdminChangeResult = 'done' | 'unchanged' | 'not_found' | 'own_account';

/** Usernames: what staff type at login, lower case. */
export const STAFF_USERNAME = /^[a-z][a-z0-9._-]{2,31}$/;
export const STAFF_PASSWORD_MIN = 12;

export class StaffAccountError extends Error {
  override name = 'StaffAccountError';
}

/** A staff password's problem (message key), or undefined: long, and not the username. */
export function staffPasswordError(password: string, username: string): string | undefined {
  if (password.length < STAFF_PASSWORD_MIN || password.length > 128) return 'intranet.password.error.length';
  if (username && password.toLowerCase().includes(username.toLowerCase())) return 'intranet.password.error.username';
  return undefined;
}

const summary = (row: StaffMember): StaffSummary => ({
  username: row.username,
  role: row.role,
  disabled: !!row.disabledAt,
  locked: !!row.lockedAt,
  createdAt: row.createdAt,
  createdBy: row.createdBy ?? null,
});

/** Staff accounts: creation, the password login with its lockout, and an admin's changes. */
export class StaffService {
  constructor(private readonly deps: { orm: Orm; clock: Clock; audit: AuditLog; lockoutAttempts: number }) {}

  private get em(): EntityManager {
    return this.deps.orm.em.fork();
  }

  /** A new account; throws StaffAccountError for a bad username or password, or one taken. */
  async create(input: { username: string; role: StaffRole; password: string; by: string | null } & Where): Promise<StaffSummary> {
    const username = input.username.trim().toLowerCase();
    if (!STAFF_USERNAME.test(username)) throw new StaffAccountError('intranet.staff.error.username');
    const problem = staffPasswordError(input.password, username);
    if (problem) throw new StaffAccountError(problem);
    const now = this.deps.clock.now();
    const row: StaffMember = {
      username,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      passwordChangedAt: now,
      disabledAt: null,
      consecutiveFailures: 0,
      lockedAt: null,
      sessionEpoch: 0,
      createdAt: now,
      createdBy: input.by,
      updatedAt: now,
    };
    await this.em.transactional(async (em) => {
      if (!(await staffMembers.insert(em, row))) throw new StaffAccountError('intranet.staff.error.taken');
      this.audit(em, this.entry(input.by, 'staff.create', username, 'success', input, { role: input.role }));
    });
    return summary(row);
  }

  /**
   * The staff login. argon2 runs on every path; a disabled or locked account and a wrong password answer alike,
   * and tries while locked do not count.
   */
  async logIn(usernameTyped: string, password: string, where: Where): Promise<StaffUser | null> {
    const username = usernameTyped.trim().toLowerCase();
    const row = STAFF_USERNAME.test(username) ? await staffMembers.find(this.em, username) : null;
    const matches = await verifyPassword(row?.passwordHash, password);
    return this.em.transactional(async (em) => {
      if (!row) {
        this.audit(em, this.entry(null, 'staff.login', username.slice(0, 32), 'refused', where, { reason: 'unknown' }));
        return null;
      }
      if (row.disabledAt || row.lockedAt) {
        this.audit(em, this.entry(username, 'staff.login', username, 'refused', where, { reason: row.disabledAt ? 'disabled' : 'locked' }));
        return null;
      }
      if (!matches) {
        const counted = await staffMembers.countFailure(em, username, this.deps.lockoutAttempts, this.deps.clock.now());
        this.audit(em, this.entry(username, 'staff.login', username, 'failure', where, { reason: counted ? 'wrong_password' : 'locked' }));
        if (counted?.lockedNow) this.audit(em, this.entry(username, 'staff.lockout', username, 'success', where));
        return null;
      }
      await staffMembers.resetCount(em, username);
      this.audit(em, this.entry(username, 'staff.login', username, 'success', where));
      return { username, role: row.role, epoch: row.sessionEpoch };
    });
  }

  /** The session's account as it is now: null once disabled, locked or changed since the login. */
  async current(user: StaffUser): Promise<StaffUser | null> {
    const row = await staffMembers.find(this.em, user.username);
    if (!row || row.disabledAt || row.lockedAt || row.sessionEpoch !== user.epoch) return null;
    return { username: row.username, role: row.role, epoch: row.sessionEpoch };
  }

  async recordLogout(username: string, where: Where): Promise<void> {
    await this.deps.audit.recordNow(this.em, this.entry(username, 'staff.logout', username, 'success', where));
  }

  /** The staff member's own new password (the current one first). Returns the new session, or 'wrong_current'. */
  async changePassword(user: StaffUser, current: string, next: string, where: Where): Promise<StaffUser | 'wrong_current'> {
    const row = await staffMembers.find(this.em, user.username);
    if (!row || !(await verifyPassword(row.passwordHash, current))) {
      await this.deps.audit.recordNow(this.em, this.entry(user.username, 'staff.password_change', user.username, 'failure', where, { reason: 'wrong_current' }));
      return 'wrong_current';
    }
    const passwordHash = await hashPassword(next);
    return this.em.transactional(async (em) => {
      const now = this.deps.clock.now();
      await staffMembers.update(em, user.username, { passwordHash, passwordChangedAt: now }, now);
      this.audit(em, this.entry(user.username, 'staff.password_change', user.username, 'success', where));
      return { ...user, epoch: row.sessionEpoch + 1 };
    });
  }

  async list(): Promise<StaffSummary[]> {
    return (await staffMembers.list(this.em)).map(summary);
  }

  async find(username: string): Promise<StaffSummary | null> {
    const row = await staffMembers.find(this.em, username.trim().toLowerCase());
    return row && summary(row);
  }

  /** An admin's change of another account; each ends that account's sessions. False when there is no such account. */
  async change(username: string, change: StaffChange, by: string, where: Where): Promise<boolean> {
    return this.em.transactional(async (em) => {
      const now = this.deps.clock.now();
      const changes: Partial<StaffMember> =
        change === 'disable' ? { disabledAt: now }
        : change === 'enable' ? { disabledAt: null }
        : change === 'unlock' ? { lockedAt: null, consecutiveFailures: 0 }
        : { role: change.role };
      const done = await staffMembers.update(em, username, changes, now);
      if (done) {
        const action = typeof change === 'string' ? `staff.${change}` : 'staff.role';
        this.audit(em, this.entry(by, action, username, 'success', where, typeof change === 'string' ? {} : { role: change.role }));
      }
      return done;
    });
  }

  /**
   * An admin's change from the staff page. Never of their own account: disabling or demoting it could leave the
   * intranet without an admin (another admin does it). A change to what the account already is ends no session.
   */
  async changeByAdmin(username: string, change: StaffChange, by: string, where: Where): Promise<AdminChangeResult> {
    if (username === by) {
      const action = typeof change === 'string' ? `staff.${change}` : 'staff.role';
      await this.deps.audit.recordNow(this.em, this.entry(by, action, username, 'refused', where, { reason: 'own_account' }));
      return 'own_account';
    }
    const row = await staffMembers.find(this.em, username);
    if (!row) return 'not_found';
    const already =
      change === 'disable' ? !!row.disabledAt
      : change === 'enable' ? !row.disabledAt
      : change === 'unlock' ? !row.lockedAt
      : row.role === change.role;
    if (already) return 'unchanged';
    return (await this.change(username, change, by, where)) ? 'done' : 'not_found';
  }

  /**
   * 受理重設密碼: an admin sets a new password for another account (its owner forgot it, or is locked out). It
   * clears the lockout and ends the account's sessions. Throws StaffAccountError for a password that will not do.
   */
  async resetPassword(username: string, password: string, by: string, where: Where): Promise<'done' | 'not_found' | 'own_account'> {
    if (username === by) return 'own_account';
    const problem = staffPasswordError(password, username);
    if (problem) throw new StaffAccountError(problem);
    const passwordHash = await hashPassword(password);
    return this.em.transactional(async (em) => {
      const now = this.deps.clock.now();
      const done = await staffMembers.update(em, username, { passwordHash, passwordChangedAt: now, lockedAt: null, consecutiveFailures: 0 }, now);
      if (!done) return 'not_found';
      this.audit(em, this.entry(by, 'staff.password_reset', username, 'success', where));
      return 'done';
    });
  }

  private entry(actor: string | null, action: string, username: string, outcome: Outcome, where: Where, detail: AuditEntry['detail'] = {}): AuditEntry {
    return { actorType: actor ? 'staff' : 'system', actorId: actor, action, subject: `staff:${username}`, outcome, clientAddress: where.clientAddress, detail };
  }

  private audit(em: EntityManager, entry: AuditEntry): void {
    this.deps.audit.record(em, entry);
  }
}
