import type { Orm } from '../../platform/db/index.js';
import { EnrollmentRegistry } from './enrollments.js';
import { EnrollmentSchema } from './entities/enrollment.js';

export { EnrollmentRegistry } from './enrollments.js';
export { unitCodeError, UNIT_NAME_MAX } from './rules.js';
export { enrollmentsFile } from './import.js';

export const employerEntities = [EnrollmentSchema];

/** The employers module: for now the enrolment registry. */
export function createEmployersModule(deps: { orm: Orm }) {
  return { enrollments: new EnrollmentRegistry(deps.orm) };
}
