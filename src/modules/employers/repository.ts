import { LockMode, type EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { UnitAdminSchema, type UnitAdmin } from './entities/unit-admin.js';

/** A unit as the enrolment rows know it. */
export interface UnitSummary {
  unitCode: string;
  unitName: string;
  /** Persons the unit insures now (rows with insured true). */
  insuredCount: number;
}

/** Queries of the enrolment rows, grouped by unit. */
export const enrollments = {
  async unit(em: EntityManager, unitCode: string): Promise<UnitSummary | null> {
    const [row] = await (em as SqlEntityManager).execute<{ unit_name: string | null; insured_count: string | number }[]>(
      'select min(unit_name) as unit_name, count(*) filter (where insured) as insured_count from enrollment where unit_code = ?',
      [unitCode],
    );
    // The aggregate answers one row even for no rows: a null name means no such unit.
    if (!row || row.unit_name === null) return null;
    return { unitCode, unitName: row.unit_name, insuredCount: Number(row.insured_count) };
  },
};

/** Queries of the units' admins. */
export const unitAdmins = {
  /** `forUpdate` holds the row until the transaction ends, so two designations of one unit run one after the other. */
  find(em: EntityManager, unitCode: string, options: { forUpdate?: boolean } = {}): Promise<UnitAdmin | null> {
    return em.findOne(UnitAdminSchema, { unitCode }, { disableIdentityMap: true, ...(options.forUpdate ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) });
  },

  /** Inserts the unit's admin, or replaces the one there (a designation made meanwhile included). */
  async save(em: EntityManager, row: UnitAdmin): Promise<void> {
    await (em as SqlEntityManager).createQueryBuilder(UnitAdminSchema).insert(row).onConflict('unitCode').merge().execute('run');
  },

  async unitsOf(em: EntityManager, idNumber: string): Promise<string[]> {
    const rows = await em.find(UnitAdminSchema, { idNumber }, { orderBy: { unitCode: 'asc' }, disableIdentityMap: true });
    return rows.map((row) => row.unitCode);
  },
};
