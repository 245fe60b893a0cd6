import type { AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import { UnitAdmins } from './unit-admins.js';
import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { EnrollmentRegistry } from './enrollments.js';
import { EnrollmentSchema } from './entities/enrollment.js';
import { UnitAdminSchema } from './entities/unit-admin.js';
import { BulkUploadRowSchema, BulkUploadSchema } from './entities/bulk-upload.js';
import { EmployerRoleSchema } from './entities/employer-role.js';

export { EnrollmentRegistry } from './enrollments.js';
export type { UnitSummary } from './repository.js';
export { UnitAdmins, type Designation, type DesignationResult, type RegistrationLookup } from './unit-admins.js';
export type { UnitAdmin } from './entities/unit-admin.js';
export { unitCodeError, UNIT_NAME_MAX } from './rules.js';
export { enrollmentsFile } from './import.js';

export const employerEntities = [EnrollmentSchema, UnitAdminSchema, EmployerRoleSchema, BulkUploadSchema, BulkUploadRowSchema];

/** The employers module: for now the enrolment registry. */
export function createEmployersModule(deps: { orm: Orm; clock: Clock; audit: AuditLog }) {
  return { enrollments: new EnrollmentRegistry(deps.orm), unitAdmins: new UnitAdmins(deps) };
}

/** The employers module's definition; its clerks get the bulk upload's result by mail. */
export const employersModule = defineModule({
  name: 'employers',
  entities: employerEntities,
  mailTemplates: ['bulk-upload-result'],
  messages: {
    'zh-TW': { 'mail.bulk-upload-result.subject': '健保卡網路服務註冊-整批註冊申請上傳結果' },
    en: { 'mail.bulk-upload-result.subject': 'NHI Card Online Services Registration - Bulk registration upload result (健保卡網路服務註冊-整批註冊申請上傳結果)' },
  },
  create: (deps: PlatformDeps) => ({ api: createEmployersModule(deps) }),
});
