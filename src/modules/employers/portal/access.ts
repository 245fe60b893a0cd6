import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { maskIdNumber, type AuditLog } from '../../../platform/audit/index.js';
import type { Clock } from '../../../platform/clock.js';
import type { Orm } from '../../../platform/db/index.js';
import { EMPLOYER_ROLES, EmployerRoleSchema, type EmployerRole } from '../entities/employer-role.js';
import { enrollments, unitAdmins } from '../repository.js';
import type { RegistrationLookup } from '../unit-admins.js';

/** What a person may do for one unit: its admin may do everything (the portal's 預設權限); a clerk what was granted. */
export interface UnitAccess {
  unitCode: string;
  unitName: string;
  admin: boolean;
  roles: ReadonlySet<EmployerRole>;
}

export type GrantResult = 'granted' | 'unchanged' | 'not_registered' | 'self';

/** Who acts for which unit, and 角色管理: the unit's admin grants and revokes the clerks' roles. */
export class EmployerAccess {
  constructor(private readonly deps: { orm: Orm; clock: Clock; audit: AuditLog; registration: RegistrationLookup }) {}

  private get em(): EntityManager {
    return this.deps.orm.em.fork();
  }

  /** Every unit the person acts for, by unit code order. */
  async unitsOf(idNumber: string): Promise<UnitAccess[]> {
    const em = this.em;
    const [adminOf, grants] = await Promise.all([
      unitAdmins.unitsOf(em, idNumber),
      em.find(EmployerRoleSchema, { idNumber }, { disableIdentityMap: true }),
    ]);
    const codes = [...new Set([...adminOf, ...grants.map((g) => g.unitCode)])].sort();
    const units = await Promise.all(codes.map(async (unitCode) => {
      const unit = await enrollments.unit(em, unitCode);
      const admin = adminOf.includes(unitCode);
      const roles = new Set<EmployerRole>(admin ? EMPLOYER_ROLES : grants.filter((g) => g.unitCode === unitCode).map((g) => g.role));
      return { unitCode, unitName: unit?.unitName ?? unitCode, admin, roles };
    }));
    return units;
  }

  async accessTo(idNumber: string, unitCode: string): Promise<UnitAccess | undefined> {
    return (await this.unitsOf(idNumber)).find((unit) => unit.unitCode === unitCode);
  }

  /** The unit's clerks and their roles (the admin's 角色管理 page), by ID number. */
  async clerks(unitCode: string): Promise<{ idNumber: string; roles: EmployerRole[]; grantedAt: Date }[]> {
    const rows = await this.em.find(EmployerRoleSchema, { unitCode }, { orderBy: { idNumber: 'asc', role: 'asc' }, disableIdentityMap: true });
    const byPerson = new Map<string, { idNumber: string; roles: EmployerRole[]; grantedAt: Date }>();
    for (const row of rows) {
      const clerk = byPerson.get(row.idNumber) ?? { idNumber: row.idNumber, roles: [], grantedAt: row.grantedAt };
      clerk.roles.push(row.role);
      if (row.grantedAt > clerk.grantedAt) clerk.grantedAt = row.grantedAt;
      byPerson.set(row.idNumber, clerk);
    }
    return [...byPerson.values()];
  }

  /**
   * Grants a role to a clerk: a person with an active registration, not the admin themselves.
   * Audited in the transaction of the change.
   */
  async grant(input: { unitCode: string; idNumber: string; role: EmployerRole; by: string; clientAddress: string }): Promise<GrantResult> {
    if (input.idNumber === input.by) return 'self';
    if ((await this.deps.registration.account(input.idNumber))?.state !== 'active') return 'not_registered';
    return this.em.transactional(async (em) => {
      const inserted = await (em as SqlEntityManager).execute<{ affectedRows: number }>(
        `insert into employer_role (unit_code, id_number, role, granted_at, granted_by) values (?, ?, ?, ?, ?) on conflict do nothing`,
        [input.unitCode, input.idNumber, input.role, this.deps.clock.now(), input.by],
        'run',
      );
      if (inserted.affectedRows !== 1) return 'unchanged';
      this.audit(em, 'employer.role_grant', input);
      return 'granted';
    });
  }

  /** Whether there was such a grant to revoke. */
  async revoke(input: { unitCode: string; idNumber: string; role: EmployerRole; by: string; clientAddress: string }): Promise<boolean> {
    return this.em.transactional(async (em) => {
      const removed = await em.nativeDelete(EmployerRoleSchema, { unitCode: input.unitCode, idNumber: input.idNumber, role: input.role });
      if (removed) this.audit(em, 'employer.role_revoke', input);
      return removed > 0;
    });
  }

  private audit(em: EntityManager, action: string, input: { unitCode: string; idNumber: string; role: EmployerRole; by: string; clientAddress: string }): void {
    this.deps.audit.record(em, {
      actorType: 'employer',
      actorId: maskIdNumber(input.by),
      action,
      person: input.idNumber,
      outcome: 'success',
      clientAddress: input.clientAddress,
      detail: { unit: input.unitCode, role: input.role },
    });
  }
}
