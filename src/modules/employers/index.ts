import { Router, type Request, type RequestHandler } from 'express';
import { I18n } from '../../platform/i18n/index.js';
import { HOUSEKEEPING_TIME } from '../../platform/jobs/index.js';
import { defineModule, type PlatformDeps } from '../../platform/module.js';
import type { CardRegistry } from '../cards/index.js';
import type { LoginUser } from '../credentials/index.js';
import type { HouseholdRegistry } from '../household/index.js';
import type { RegistrationService } from '../registration/index.js';
import { BULK_UPLOAD_TASK, BulkUploads } from './bulk/service.js';
import { EnrollmentRegistry } from './enrollments.js';
import { BulkUploadRowSchema, BulkUploadSchema } from './entities/bulk-upload.js';
import { EmployerRoleSchema } from './entities/employer-role.js';
import { EnrollmentSchema } from './entities/enrollment.js';
import { UnitAdminSchema } from './entities/unit-admin.js';
import { employersMessages } from './messages.js';
import { EmployerAccess } from './portal/access.js';
import { EMPLOYER_UPLOAD_PATH, employerRouter } from './portal/routes.js';
import { UnitAdmins } from './unit-admins.js';

export { EnrollmentRegistry } from './enrollments.js';
export type { UnitSummary } from './repository.js';
export { UnitAdmins, type Designation, type DesignationResult, type RegistrationLookup } from './unit-admins.js';
export type { UnitAdmin } from './entities/unit-admin.js';
export { unitCodeError, UNIT_NAME_MAX } from './rules.js';
export { enrollmentsFile } from './import.js';
export { BulkUploads, BULK_UPLOAD_TASK } from './bulk/service.js';
export { EmployerAccess } from './portal/access.js';

export const employerEntities = [EnrollmentSchema, UnitAdminSchema, EmployerRoleSchema, BulkUploadSchema, BulkUploadRowSchema];

type Deps = PlatformDeps & {
  modules: {
    household: { registry: HouseholdRegistry };
    cards: { registry: CardRegistry };
    registration: { service: RegistrationService };
    credentials: { requireLogin: RequestHandler; currentPerson(req: Request): LoginUser | undefined };
  };
};

/** Employers: the enrolment registry, the units' admins and clerks' roles, and the portal's bulk registration. */
export const employersModule = defineModule({
  name: 'employers',
  entities: employerEntities,
  mailTemplates: ['bulk-upload-result'],
  messages: employersMessages,
  create(deps: Deps) {
    const enrollments = new EnrollmentRegistry(deps.orm);
    const registration = deps.modules.registration.service;
    const unitAdmins = new UnitAdmins({ ...deps, registration });
    const access = new EmployerAccess({ ...deps, registration });
    const uploads = new BulkUploads({
      ...deps,
      i18n: new I18n(employersMessages),
      dataDir: deps.config.dataDir,
      maxRows: deps.config.uploadMaxRows,
      registration: deps.modules.registration.service,
      household: deps.modules.household.registry,
      cards: deps.modules.cards.registry,
      enrollments,
    });
    const citizenRouter = Router();
    citizenRouter.use(employerRouter({
      access,
      uploads,
      registration: deps.modules.registration.service,
      household: deps.modules.household.registry,
      rateLimits: deps.rateLimits,
      maxBytes: deps.config.uploadMaxBytes,
      maxRows: deps.config.uploadMaxRows,
      requireLogin: deps.modules.credentials.requireLogin,
      currentPerson: deps.modules.credentials.currentPerson,
    }));
    return {
      web: { citizenRouter, csrfExempt: [EMPLOYER_UPLOAD_PATH] },
      api: { enrollments, unitAdmins, access, uploads },
      jobs: {
        [BULK_UPLOAD_TASK]: (payload, job) => uploads.process((payload as { uploadId: string }).uploadId, job.beat),
        'bulk-uploads-cleanup': () => uploads.deleteOld(deps.config.uploadKeepMs).then(() => undefined),
      },
      schedules: { 'bulk-uploads-cleanup': HOUSEKEEPING_TIME },
    };
  },
});
