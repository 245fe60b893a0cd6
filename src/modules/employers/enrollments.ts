import type { Orm } from '../../platform/db/index.js';
import { EnrollmentSchema } from './entities/enrollment.js';
import { enrollments, type UnitSummary } from './repository.js';
import { unitCodeError } from './rules.js';

/** The enrolment registry (承保, imported from enrollments.csv). */
export class EnrollmentRegistry {
  constructor(private readonly orm: Orm) {}

  /** True when the unit currently insures the person: bulk registration accepts only such people. */
  async isCurrentlyInsured(idNumber: string, unitCode: string): Promise<boolean> {
    if (!/^[A-Z0-9]{10}$/.test(idNumber) || !/^\d{8}$/.test(unitCode)) return false;
    const row = await this.orm.em.fork().findOne(EnrollmentSchema, { idNumber, unitCode });
    return row?.insured === true;
  }

  /** Of these persons, those the unit currently insures (a bulk upload's batch). */
  async insuredAmong(unitCode: string, idNumbers: readonly string[]): Promise<Set<string>> {
    if (!idNumbers.length) return new Set();
    const rows = await this.orm.em.getConnection().execute<{ id_number: string }[]>(
      'select id_number from enrollment where unit_code = ? and insured and id_number = any(array[?]::text[])',
      [unitCode, [...idNumbers]],
    );
    return new Set(rows.map((row) => row.id_number));
  }

  /** The unit of this code as its enrolment rows have it, or null when no row has the code (or it is malformed). */
  async unit(unitCode: string): Promise<UnitSummary | null> {
    if (unitCodeError(unitCode)) return null;
    return enrollments.unit(this.orm.em.fork(), unitCode);
  }
}
