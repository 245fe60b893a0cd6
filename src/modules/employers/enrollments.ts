import type { Orm } from '../../platform/db/index.js';
import { EnrollmentSchema } from './entities/enrollment.js';

/** The enrolment registry (承保, imported from enrollments.csv). */
export class EnrollmentRegistry {
  constructor(private readonly orm: Orm) {}

  /** True when the unit currently insures the person: bulk registration accepts only such people. */
  async isCurrentlyInsured(idNumber: string, unitCode: string): Promise<boolean> {
    if (!/^[A-Z0-9]{10}$/.test(idNumber) || !/^\d{8}$/.test(unitCode)) return false;
    const row = await this.orm.em.fork().findOne(EnrollmentSchema, { idNumber, unitCode });
    return row?.insured === true;
  }
}
