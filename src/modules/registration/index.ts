import { HOUSEKEEPING_TIME } from '../../platform/jobs/index.js';
import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { deleteExpiredDeletionRows } from './repository.js';
import { LinkTokens } from '../../platform/tokens/index.js';
import type { CardReads } from '../card-reads/index.js';
import type { CardRegistry } from '../cards/index.js';
import type { DivisionsService, HouseholdRegistry } from '../household/index.js';
import { Captchas } from './captcha.js';
import { DeletionService } from './deletion.js';
import { deletionRouter } from './deletion-routes.js';
import { CaptchaUseSchema, DeletionRequestSchema } from './entities/deletion.js';
import { RegistrationSchema } from './entities/registration.js';
import { registrationMessages } from './messages.js';
import { activationRouter } from './activation-routes.js';
import { registrationRouter } from './routes.js';
import { RegistrationService } from './service.js';

export {
  RegistrationService,
  type Account,
  type ActivateResult,
  type AppRegistration,
  type Contacts,
  type CounterRecord,
  type EmailChangeProof,
  type EmployerBatch,
  type EmployerPerson,
  type Identity,
} from './service.js';
export { credentialsForm } from './forms.js';
export { emailChangeProof, emailMethodStep } from './email-method.js';
export { REGISTRATION_STATES, type RegistrationState } from './entities/registration.js';
export {
  emailAddress,
  optionalEmail,
  mobileNumber,
  registrationPassword,
  personalPasswordError,
  isMicrosoftMail,
  localPhone,
  localPhoneParts,
} from './rules.js';

type Deps = PlatformDeps & {
  modules: {
    household: { registry: HouseholdRegistry; divisions: DivisionsService };
    cards: { registry: CardRegistry };
    cardReads: { cardReads: CardReads };
  };
};

/**
 * The registration module: 首次登入請先申請 (terms, identity, credentials), the confirmation link, 重寄認證信, 刪除註冊申請,
 * and the registrations an employer's bulk upload makes with their 健保卡註冊認證作業.
 */
export const registrationModule = defineModule({
  name: 'registration',
  entities: [RegistrationSchema, DeletionRequestSchema, CaptchaUseSchema],
  messages: registrationMessages,
  // Deletion's subjects are in the platform catalogue (src/platform/i18n/messages.ts).
  mailTemplates: ['registration-confirmation', 'registration-activation', 'registration-complete', 'deletion-confirmation', 'deletion-notice'],
  cardReadPurposes: ['register', 'confirm', 'resend', 'activate'],
  create(deps: Deps) {
    const service = new RegistrationService({
      ...deps,
      tokens: new LinkTokens(deps.clock),
      household: deps.modules.household.registry,
      cards: deps.modules.cards.registry,
    });
    const citizenRouter = registrationRouter({ service, cardReads: deps.modules.cardReads.cardReads, divisions: deps.modules.household.divisions, rateLimits: deps.rateLimits });
    citizenRouter.use(activationRouter({ service, cardReads: deps.modules.cardReads.cardReads, rateLimits: deps.rateLimits }));
    const tokens = new LinkTokens(deps.clock);
    const deletion = new DeletionService({ ...deps, tokens, cards: deps.modules.cards.registry, registration: service, secret: deps.config.sessionSecret });
    const captchas = new Captchas(deps.config.sessionSecret, deps.clock, deps.config.captchaFixed);
    citizenRouter.use(deletionRouter({ deletion, captchas, divisions: deps.modules.household.divisions, rateLimits: deps.rateLimits, orm: deps.orm, clock: deps.clock, secret: deps.config.sessionSecret }));
    return {
      web: { citizenRouter },
      api: { service, deletion },
      jobs: { 'deletion-cleanup': () => deps.orm.em.fork().transactional((em) => deleteExpiredDeletionRows(em, deps.clock.now())).then(() => undefined) },
      schedules: { 'deletion-cleanup': HOUSEKEEPING_TIME },
    };
  },
});
