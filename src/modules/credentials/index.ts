import { Router } from 'express';
import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { LinkTokens } from '../../platform/tokens/index.js';
import type { CardReads } from '../card-reads/index.js';
import type { DivisionsService, HouseholdRegistry } from '../household/index.js';
import type { AnnouncementService } from '../announcements/index.js';
import type { RegistrationService } from '../registration/index.js';
import { accountRouter } from './account-routes.js';
import { LoginLockoutSchema } from './entities/login-lockout.js';
import { loginSessions } from './login.js';
import { credentialsMessages } from './messages.js';
import { recoveryRouter } from './recovery-routes.js';
import { homeRouter } from './routes.js';
import { CredentialsService } from './service.js';

export { CredentialsService, RESET_TTL_MS, type LoginUser, type LoginRefusal, type LoginResult } from './service.js';
export { PLANNED_PAGES } from './routes.js';

type Deps = PlatformDeps & {
  modules: {
    announcements: { announcements: AnnouncementService };
    household: { registry: HouseholdRegistry; divisions: DivisionsService };
    cardReads: { cardReads: CardReads };
    registration: { service: RegistrationService };
  };
};

/** Login (the home page), logout, 忘記註冊密碼 and the logged-in services 註冊密碼變更 and 基本資料異動. */
export const credentialsModule = defineModule({
  name: 'credentials',
  entities: [LoginLockoutSchema],
  messages: credentialsMessages,
  mailTemplates: ['password-reset', 'password-changed', 'email-changed'],
  cardReadPurposes: ['login', 'forgot', 'reset'],
  create(deps: Deps) {
    const cardReads = deps.modules.cardReads.cardReads;
    const registration = deps.modules.registration.service;
    const service = new CredentialsService({
      ...deps,
      tokens: new LinkTokens(deps.clock),
      registration,
      household: deps.modules.household.registry,
      lockoutAttempts: deps.config.loginLockoutAttempts,
    });
    const sessions = loginSessions({ service, cardReads });
    const { router, citizenRouter } = homeRouter({ ...deps, announcements: deps.modules.announcements.announcements, cardReads, service, sessions });
    const citizen = Router();
    citizen.use(citizenRouter);
    citizen.use(recoveryRouter({ service, cardReads, divisions: deps.modules.household.divisions, rateLimits: deps.rateLimits }));
    citizen.use(accountRouter({ service, registration, sessions, rateLimits: deps.rateLimits }));
    return {
      web: { router, citizenRouter: citizen },
      api: {
        /** Who this request is logged in as (after the credentials middleware), or undefined. */
        currentPerson: sessions.currentPerson,
        /** Middleware for logged-in pages: without a login, 303 to / with a message. */
        requireLogin: sessions.requireLogin,
        /** Lifts a person's lockout (the counter's 解除鎖定), in the caller's transaction. */
        unlock: service.unlock.bind(service),
        /** The registration password check without a card (the mobile app): argon2, the lockout and audit as login. */
        checkPassword: service.checkPassword.bind(service),
        /** Whether password login is locked for the person, and the count of wrong tries. */
        lockState: service.lockState.bind(service),
      },
    };
  },
});
