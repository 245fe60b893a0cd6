import { Router, type Request, type RequestHandler } from 'express';
import { I18n } from '../../platform/i18n/index.js';
import { HOUSEKEEPING_TIME } from '../../platform/jobs/index.js';
import { defineModule, type PlatformDeps } from '../../platform/module.js';
import type { EntityManager } from '@mikro-orm/core';
import type { CardRegistry } from '../cards/index.js';
import type { LoginResult, LoginUser } from '../credentials/index.js';
import type { HouseholdRegistry } from '../household/index.js';
import type { RegistrationService } from '../registration/index.js';
import { API_PREFIX, appApiRouter } from './api-routes.js';
import { DeviceBindingSchema } from './entities/device-binding.js';
import { DeviceCodeSchema } from './entities/device-code.js';
import { devicesMessages } from './messages.js';
import { devicesRouter } from './routes.js';
import { deleteExpiredDeviceCodes } from './repository.js';
import { DeviceSecrets } from './secrets.js';
import { DevicesService } from './service.js';
import { SimulatedTelecom, type TelecomOperator } from './telecom.js';

export { DevicesService, type Device } from './service.js';
export { SimulatedTelecom, TELECOM_ANSWERS, type TelecomAnswer, type TelecomOperator } from './telecom.js';
export { API_PREFIX, apiLocale } from './api-routes.js';
export { deviceCodeQr } from './routes.js';

type Deps = PlatformDeps & {
  /** `devices` in ServiceOverrides.modules: another telecom operator (a test's, or production's adapter). */
  override?: TelecomOperator;
  modules: {
    registration: { service: RegistrationService };
    household: { registry: HouseholdRegistry };
    cards: { registry: CardRegistry };
    credentials: {
      unlock(em: EntityManager, idNumber: string): Promise<boolean>;
      currentPerson(req: Request): LoginUser | undefined;
      requireLogin: RequestHandler;
      checkPassword(idNumber: string, password: string, where: { clientAddress: string; via?: 'app' }): Promise<LoginResult>;
    };
  };
};

/** 行動裝置認證 (device codes), 行動裝置管理作業 and the mobile app's JSON API. */
export const devicesModule = defineModule({
  name: 'devices',
  entities: [DeviceCodeSchema, DeviceBindingSchema],
  messages: devicesMessages,
  create(deps: Deps) {
    const credentials = deps.modules.credentials;
    const telecom = deps.override ?? telecomFor(deps);
    const service = new DevicesService({
      orm: deps.orm,
      clock: deps.clock,
      audit: deps.audit,
      secrets: new DeviceSecrets(deps.config.sessionSecret),
      codeTtlMs: deps.config.deviceCodeMs,
      registration: deps.modules.registration.service,
      checkPassword: credentials.checkPassword,
      household: deps.modules.household.registry,
      cards: deps.modules.cards.registry,
      telecom,
      unlock: credentials.unlock,
    });
    const citizenRouter = Router();
    citizenRouter.use(devicesRouter({ service, requireLogin: credentials.requireLogin, currentPerson: credentials.currentPerson }));
    // The app's API answers at all hours with JSON (the service-hours gate answers with a page).
    const router = appApiRouter({ service, i18n: new I18n(devicesMessages), codeFailures: deps.rateLimits.deviceCodeFailures, logins: deps.rateLimits.login });
    return {
      web: { router, citizenRouter, csrfExempt: [new RegExp(`^${API_PREFIX.replace(/\//g, '\\/')}\\/`)] },
      api: { service },
      jobs: { 'device-codes-cleanup': () => deps.orm.em.fork().transactional((em) => deleteExpiredDeviceCodes(em, deps.clock.now())).then(() => undefined) },
      schedules: { 'device-codes-cleanup': HOUSEKEEPING_TIME },
    };
  },
});

/** The simulated operator of TELECOM_SIM_FILE, read once here; unset, it knows no number (every one is not_owner). */
function telecomFor(deps: PlatformDeps): TelecomOperator {
  const file = deps.config.telecomSimFile;
  if (file) return SimulatedTelecom.fromFile(file);
  // Production's operator adapter comes through the override; without it the start goes on, refusing every number.
  if (deps.config.env === 'production') deps.log('TELECOM_SIM_FILE unset and no telecom adapter: 行動電話認證 answers not_owner for every number');
  return new SimulatedTelecom();
}
