import { Router } from 'express';
import { defineModule, type PlatformDeps } from '../../platform/module.js';
import type { AnnouncementService } from '../announcements/index.js';
import type { CardReads, CardReadService, ReaderTerminals } from '../card-reads/index.js';
import type { CardRegistry } from '../cards/index.js';
import type { LoginUser } from '../credentials/index.js';
import type { DevicesService } from '../devices/index.js';
import type { EnrollmentRegistry, UnitAdmins } from '../employers/index.js';
import type { HouseholdRegistry } from '../household/index.js';
import type { RegistrationService } from '../registration/index.js';
import type { EntityManager } from '@mikro-orm/core';
import { adminRouter } from './admin-routes.js';
import { announcementsRouter } from './announcements-routes.js';
import { auditRouter } from './audit-routes.js';
import { counterRouter } from './counter-routes.js';
import { employersRouter } from './employers-routes.js';
import { CounterService } from './counter/service.js';
import { StaffMemberSchema } from './entities/staff-member.js';
import { intranetMessages } from './messages/index.js';
import { staffRouter } from './routes.js';
import { StaffService } from './staff/service.js';
import { staffSessions } from './staff/sessions.js';

export { StaffService, StaffAccountError, type StaffUser, type StaffSummary } from './staff/service.js';
export { STAFF_ACTIONS, STAFF_ROLES, can, type StaffAction, type StaffRole } from './roles.js';

type Deps = PlatformDeps & {
  modules: {
    announcements: { announcements: AnnouncementService };
    household: { registry: HouseholdRegistry };
    cards: { registry: CardRegistry };
    cardReads: { cardReads: CardReads; terminals: ReaderTerminals; service: CardReadService; staffRouter: Router };
    employers: { enrollments: EnrollmentRegistry; unitAdmins: UnitAdmins };
    registration: { service: RegistrationService };
    credentials: {
      unlock(em: EntityManager, idNumber: string): Promise<boolean>;
      lockState(idNumber: string): Promise<{ locked: boolean; consecutiveFailures: number; lockedAt: Date | null }>;
      currentPerson(req: unknown): LoginUser | undefined;
    };
    devices: { service: DevicesService };
  };
};

export type IntranetDeps = Deps;

/** The counter intranet (臨櫃, under /intranet): staff accounts and the counter's pages, each behind its role's check. */
export const intranetModule = defineModule({
  name: 'intranet',
  entities: [StaffMemberSchema],
  messages: intranetMessages,
  staffCardReadPurposes: ['counter'],
  create(deps: Deps) {
    const staff = new StaffService({ ...deps, lockoutAttempts: deps.config.loginLockoutAttempts });
    const sessions = staffSessions(staff);
    const router = Router();
    router.use(sessions.middleware);
    // Login and logout first; every route after these needs a staff login.
    router.use(staffRouter({ service: staff, sessions, rateLimits: deps.rateLimits }));
    router.use(deps.modules.cardReads.staffRouter);
    const counter = new CounterService({
      ...deps,
      registration: deps.modules.registration.service,
      devices: deps.modules.devices.service,
      cards: deps.modules.cards.registry,
      household: deps.modules.household.registry,
      credentials: deps.modules.credentials,
    });
    const parts = { ...deps, staff, sessions, counter };
    router.use(counterRouter(parts));
    router.use(announcementsRouter(parts));
    router.use(auditRouter(parts));
    router.use(employersRouter(parts));
    router.use(adminRouter(parts));
    return { web: { staffRouter: router }, api: { staff } };
  },
});
