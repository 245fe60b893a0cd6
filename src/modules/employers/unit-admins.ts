import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import type { UnitAdmin } from './entities/unit-admin.js';
import { enrollments, unitAdmins } from './repository.js';
import { unitCodeError } from './rules.js';

/** What designating asks of the registration module: the person's registration, read in the designation's transaction. */
export interface RegistrationLookup {
  account(idNumber: string, em?: EntityManager): Promise<{ state: 'pending' | 'active' | 'suspended' | 'deleted' } | null>;
}

export interface Designation {
  unitCode: string;
  /** The new admin's full ID number. */
  idNumber: string;
  /** The staff member's username. */
  by: string;
  clientAddress: string;
}

/**
 * `designated`: the unit had no admin; `replaced`: another person was; `unchanged`: this person already is.
 * Refused, nothing saved: `no_unit` (no enrolment row has the code), `not_registered` (no registration, or a
 * deleted one), `pending` (not yet confirmed), `suspended`.
 */
export type DesignationResult = 'designated' | 'replaced' | 'unchanged' | 'no_unit' | 'not_registered' | 'pending' | 'suspended';

/** Each unit's admin for the employer portal, designated or replaced by counter staff. */
export class UnitAdmins {
  constructor(private readonly deps: { orm: Orm; clock: Clock; audit: AuditLog; registration: RegistrationLookup }) {}

  /** The unit's admin, or null when none is designated. */
  async adminOf(unitCode: string): Promise<UnitAdmin | null> {
    if (unitCodeError(unitCode)) return null;
    return unitAdmins.find(this.deps.orm.em.fork(), unitCode);
  }

  /** The codes of the units the person is admin of (what the employer portal lets them act for). */
  async unitsOf(idNumber: string): Promise<string[]> {
    return unitAdmins.unitsOf(this.deps.orm.em.fork(), idNumber);
  }

  /** Makes the person the unit's admin, in place of any other; only a person with an active registration may be. */
  async designate(input: Designation): Promise<DesignationResult> {
    const { unitCode, idNumber } = input;
    if (unitCodeError(unitCode)) return 'no_unit';
    return this.deps.orm.em.fork().transactional(async (em) => {
      if (!(await enrollments.unit(em, unitCode))) return 'no_unit';
      const account = await this.deps.registration.account(idNumber, em);
      if (!account || account.state === 'deleted') return 'not_registered';
      if (account.state !== 'active') return account.state;
      const previous = await unitAdmins.find(em, unitCode, { forUpdate: true });
      if (previous?.idNumber === idNumber) return 'unchanged';
      await unitAdmins.save(em, { unitCode, idNumber, designatedAt: this.deps.clock.now(), designatedBy: input.by });
      this.deps.audit.record(em, {
        actorType: 'staff',
        actorId: input.by,
        action: 'employer.admin_designate',
        subject: `unit:${unitCode}`,
        person: idNumber,
        outcome: 'success',
        clientAddress: input.clientAddress,
        // The subject is the unit, so both people are named here, masked.
        detail: { admin: maskIdNumber(idNumber), previous: previous ? maskIdNumber(previous.idNumber) : undefined },
      });
      return previous ? 'replaced' : 'designated';
    });
  }
}
