import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditEntry, type AuditLog, type Outcome } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import type { CardRegistry } from '../cards/index.js';
import type { LoginResult } from '../credentials/index.js';
import { RegistryUnavailableError, type HouseholdRegistry } from '../household/index.js';
import { personalPasswordError, type RegistrationService } from '../registration/index.js';
import type { DeviceBinding, DeviceStatus } from './entities/device-binding.js';
import { deviceBindings, deviceCodes } from './repository.js';
import { ACCESS_TOKEN_SECONDS, newDeviceCode, normaliseCode, type DeviceSecrets } from './secrets.js';
import type { TelecomAnswer, TelecomOperator } from './telecom.js';

export type Where = { clientAddress: string };

/** A device as the management page and the app see it. */
export interface Device {
  bindingId: string;
  deviceId: string;
  platform: string;
  model: string;
  verifiedAt: Date;
  status: DeviceStatus;
}

export interface BindRequest {
  code: string;
  platform: string;
  model: string;
  deviceId: string;
}

export interface PhoneVerifyRequest {
  mobile: string;
  idNumber: string;
  cardLast4: string;
  password: string;
  platform: string;
  model: string;
  deviceId: string;
}

export type PhoneVerifyResult =
  | { ok: true; deviceToken: string; account: string }
  | { ok: false; error: 'invalid_credentials' }
  | { ok: false; error: 'device_disabled' }
  | { ok: false; error: 'number_ineligible'; reason: Exclude<TelecomAnswer, 'postpaid'> }
  | { ok: false; error: 'invalid_password'; messageKey: string }
  | { ok: false; error: 'unavailable' };

export type BindResult = { ok: true; deviceToken: string; account: string } | { ok: false };
export type AppLoginResult = { ok: true; accessToken: string; expiresIn: number } | { ok: false; error: 'invalid_credentials' | 'device_disabled' };
export type DeviceChange = 'disable' | 'enable' | 'delete';

export interface DevicesDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  secrets: DeviceSecrets;
  /** DEVICE_CODE_MINUTES, in ms. */
  codeTtlMs: number;
  registration: Pick<RegistrationService, 'account' | 'registerByApp'>;
  checkPassword(idNumber: string, password: string, where: Where & { via?: 'app' }): Promise<LoginResult>;
  household: Pick<HouseholdRegistry, 'findPerson'>;
  cards: Pick<CardRegistry, 'validCardsOf'>;
  telecom: TelecomOperator;
  /** Lifts the person's password lockout, in the caller's transaction (credentials). */
  unlock(em: EntityManager, idNumber: string): Promise<boolean>;
}

const toDevice = (b: DeviceBinding): Device => ({
  bindingId: b.id,
  deviceId: b.deviceId,
  platform: b.platform,
  model: b.model,
  verifiedAt: b.verifiedAt,
  status: b.status,
});

/** 行動裝置認證 (codes), 行動裝置管理作業 (bindings) and the app's bind, login and token checks. */
export class DevicesService {
  constructor(private readonly deps: DevicesDeps) {}

  private get em(): EntityManager {
    return this.deps.orm.em.fork();
  }

  /** 產生裝置認證碼: a new code for the person; the earlier open ones stop working. */
  async issueCode(idNumber: string, where: Where): Promise<{ code: string; expiresAt: Date }> {
    return this.em.transactional(async (em) => {
      const now = this.deps.clock.now();
      const expiresAt = new Date(now.getTime() + this.deps.codeTtlMs);
      const superseded = await deviceCodes.supersede(em, idNumber, now);
      const code = newDeviceCode();
      await deviceCodes.insert(em, { hash: this.deps.secrets.codeHash(code), idNumber, createdAt: now, expiresAt });
      this.audit(em, this.citizen('device.code_issue', idNumber, 'success', where, { superseded }));
      return { code, expiresAt };
    });
  }

  /** The person's devices of the current registration (those bound before it was made again count as gone). */
  async devices(idNumber: string): Promise<Device[]> {
    const account = await this.deps.registration.account(idNumber);
    if (!account || account.state === 'deleted') return [];
    return (await deviceBindings.listFor(this.em, idNumber, account.createdAt)).map(toDevice);
  }

  /** 停用裝置 / 啟用裝置 / 刪除裝置 of one of the person's devices: the device after it (null once deleted), or 'not_found'. */
  async change(idNumber: string, bindingId: string, change: DeviceChange, where: Where): Promise<{ device: Device | null } | 'not_found'> {
    return this.em.transactional(async (em) => {
      const now = this.deps.clock.now();
      const binding = await this.liveBinding(em, idNumber, bindingId);
      if (!binding) return 'not_found';
      const detail = { deviceId: binding.deviceId, platform: binding.platform };
      if (change === 'delete') {
        await deviceBindings.markDeleted(em, idNumber, bindingId, now);
        this.audit(em, this.citizen('device.delete', idNumber, 'success', where, detail));
        return { device: null };
      }
      const to: DeviceStatus = change === 'enable' ? 'active' : 'disabled';
      // Already in that state (a second click): nothing to change or record.
      if (binding.status !== to) {
        await deviceBindings.setStatus(em, idNumber, bindingId, to, now);
        this.audit(em, this.citizen(change === 'enable' ? 'device.enable' : 'device.disable', idNumber, 'success', where, detail));
      }
      return { device: { ...toDevice(binding), status: to } };
    });
  }

  /**
   * A suspension at the counter, in the caller's transaction: every device of the person disabled at once. They stay
   * disabled after a reinstatement until the person enables them (行動裝置管理作業). How many were disabled.
   */
  disableAll(em: EntityManager, idNumber: string): Promise<number> {
    return deviceBindings.disableAll(em, idNumber, this.deps.clock.now());
  }

  /**
   * The app's bind: a valid code (open, unexpired, of an active registration) binds the device to its person and
   * returns the device token. Any refusal is the same answer: the caller counts it as a failed guess.
   */
  async bind(request: BindRequest, where: Where): Promise<BindResult> {
    const code = normaliseCode(request.code);
    const refused = async (reason: string): Promise<BindResult> => {
      await this.deps.audit.recordNow(this.em, this.device('device.bind', request.deviceId, null, 'failure', where, { reason }));
      return { ok: false };
    };
    if (!code) return refused('malformed');
    return this.em.transactional(async (em): Promise<BindResult> => {
      const now = this.deps.clock.now();
      const idNumber = await deviceCodes.consume(em, this.deps.secrets.codeHash(code), now);
      if (!idNumber) {
        // The code was not usable: nothing changed, the refusal is recorded outside this transaction.
        await this.deps.audit.recordNow(em, this.device('device.bind', request.deviceId, null, 'failure', where, { reason: 'invalid_code' }));
        return { ok: false };
      }
      const account = await this.deps.registration.account(idNumber, em);
      if (!account || account.state !== 'active') {
        this.audit(em, this.device('device.bind', request.deviceId, idNumber, 'refused', where, { reason: account?.state ?? 'none' }));
        return { ok: false };
      }
      const deviceToken = this.deps.secrets.newDeviceToken();
      await deviceBindings.bind(em, { idNumber, deviceId: request.deviceId, platform: request.platform, model: request.model, tokenHash: this.deps.secrets.deviceTokenHash(deviceToken), at: now });
      this.audit(em, this.device('device.bind', request.deviceId, idNumber, 'success', where, { platform: request.platform, model: request.model }));
      return { ok: true, deviceToken, account: maskIdNumber(idNumber) };
    });
  }

  /**
   * 行動電話認證 (seed 004 Q1, Q2, Q6, Q7, Q9): the person of the household registry holding a valid card that ends
   * with cardLast4, then the operator's word on the number; then, in one transaction, the registration made, activated
   * or given the new password (no e-mail confirmation: rule 4(2)), the lockout lifted and the device bound.
   * A wrong ID number and a wrong or void card are one answer, so a guesser learns neither.
   */
  async phoneVerify(request: PhoneVerifyRequest, where: Where): Promise<PhoneVerifyResult> {
    const { idNumber, deviceId } = request;
    const refused = async (reason: string, result: PhoneVerifyResult): Promise<PhoneVerifyResult> => {
      await this.deps.audit.recordNow(this.em, this.device('device.phone_verify', deviceId, idNumber, 'refused', where, { reason }));
      return result;
    };
    let person, cards;
    try {
      [person, cards] = await Promise.all([this.deps.household.findPerson(idNumber), this.deps.cards.validCardsOf(idNumber)]);
    } catch (err) {
      // The household registry (戶政) cannot answer: the app is told to try later; nothing is counted against the person.
      if (err instanceof RegistryUnavailableError) return refused('registry_unavailable', { ok: false, error: 'unavailable' });
      throw err;
    }
    const card = cards.find((c) => c.cardNumber.endsWith(request.cardLast4));
    if (!person) return refused('not_in_registry', { ok: false, error: 'invalid_credentials' });
    if (!card) return refused('card', { ok: false, error: 'invalid_credentials' });
    const weak = personalPasswordError(request.password, { idNumber, cardNumber: card.cardNumber, birthDate: person.birthDate });
    if (weak) return refused('password_rule', { ok: false, error: 'invalid_password', messageKey: weak });
    const answer = await this.deps.telecom.check(request.mobile, idNumber);
    if (answer !== 'postpaid') return refused(`number_${answer}`, { ok: false, error: 'number_ineligible', reason: answer });

    return this.em.transactional(async (em): Promise<PhoneVerifyResult> => {
      const identity = { idNumber, cardNumber: card.cardNumber, name: person.name, birthDate: person.birthDate };
      const outcome = await this.deps.registration.registerByApp(em, { identity, password: request.password, mobile: request.mobile, locale: 'zh-TW', ...where });
      if (outcome === 'suspended') {
        this.audit(em, this.device('device.phone_verify', deviceId, idNumber, 'refused', where, { reason: 'suspended' }));
        return { ok: false, error: 'device_disabled' };
      }
      const unlocked = await this.deps.unlock(em, idNumber);
      const now = this.deps.clock.now();
      const deviceToken = this.deps.secrets.newDeviceToken();
      await deviceBindings.bind(em, { idNumber, deviceId, platform: request.platform, model: request.model, tokenHash: this.deps.secrets.deviceTokenHash(deviceToken), at: now });
      this.audit(em, this.device('device.phone_verify', deviceId, idNumber, 'success', where, { registration: outcome, unlocked, platform: request.platform, model: request.model }));
      return { ok: true, deviceToken, account: maskIdNumber(idNumber) };
    });
  }

  /**
   * The app's login: the device token of a binding of this person and device, then the registration password (which
   * counts toward the web lockout), then an enabled device of the current registration.
   */
  async login(input: { idNumber: string; password: string; deviceId: string; deviceToken: string }, where: Where): Promise<AppLoginResult> {
    const { idNumber, deviceId } = input;
    const binding = await deviceBindings.byDevice(this.em, idNumber, deviceId);
    // Without the device's own token the password is not tried: an ID number alone cannot lock a person out.
    if (!binding || !this.deps.secrets.deviceTokenMatches(input.deviceToken, binding.tokenHash)) {
      await this.deps.audit.recordNow(this.em, this.device('device.login', deviceId, idNumber, 'refused', where, { reason: 'device_token' }));
      return { ok: false, error: 'invalid_credentials' };
    }
    const checked = await this.deps.checkPassword(idNumber, input.password, { ...where, via: 'app' });
    if (!checked.ok) return { ok: false, error: checked.reason === 'suspended' ? 'device_disabled' : 'invalid_credentials' };
    const account = await this.deps.registration.account(idNumber);
    if (!account || !this.usable(binding, account)) {
      await this.deps.audit.recordNow(this.em, this.device('device.login', deviceId, idNumber, 'refused', where, { reason: binding.deletedAt ? 'deleted' : 'disabled' }));
      return { ok: false, error: 'device_disabled' };
    }
    const expiresAt = Math.floor(this.deps.clock.now().getTime() / 1000) + ACCESS_TOKEN_SECONDS;
    return { ok: true, accessToken: this.deps.secrets.accessToken({ bindingId: binding.id, epoch: checked.user.epoch, expiresAt }), expiresIn: ACCESS_TOKEN_SECONDS };
  }

  /**
   * Who an access token speaks for, checked against the database on every call: unexpired, its binding still live and
   * enabled, the registration active with the same session epoch (a password change or reset ends it).
   */
  async authenticate(accessToken: string): Promise<{ idNumber: string; bindingId: string } | null> {
    const claims = this.deps.secrets.readAccessToken(accessToken);
    if (!claims || claims.expiresAt * 1000 <= this.deps.clock.now().getTime()) return null;
    const binding = await deviceBindings.byId(this.em, claims.bindingId);
    if (!binding) return null;
    const account = await this.deps.registration.account(binding.idNumber);
    if (!account || account.sessionEpoch !== claims.epoch || !this.usable(binding, account)) return null;
    return { idNumber: binding.idNumber, bindingId: binding.id };
  }

  private usable(binding: DeviceBinding, account: { state: string; createdAt: Date }): boolean {
    return account.state === 'active' && binding.status === 'active' && !binding.deletedAt && binding.verifiedAt.getTime() >= account.createdAt.getTime();
  }

  private async liveBinding(em: EntityManager, idNumber: string, bindingId: string): Promise<DeviceBinding | null> {
    const binding = await deviceBindings.byId(em, bindingId);
    if (!binding || binding.idNumber !== idNumber || binding.deletedAt) return null;
    const account = await this.deps.registration.account(idNumber, em);
    return account && binding.verifiedAt.getTime() >= account.createdAt.getTime() ? binding : null;
  }

  private citizen(action: string, idNumber: string, outcome: Outcome, where: Where, detail: AuditEntry['detail'] = {}): AuditEntry {
    return { actorType: 'citizen', actorId: maskIdNumber(idNumber), action, person: idNumber, outcome, clientAddress: where.clientAddress, detail };
  }

  private device(action: string, deviceId: string, idNumber: string | null, outcome: Outcome, where: Where, detail: AuditEntry['detail'] = {}): AuditEntry {
    return { actorType: 'device', actorId: deviceId, action, person: idNumber, outcome, clientAddress: where.clientAddress, detail };
  }

  private audit(em: EntityManager, entry: AuditEntry): void {
    this.deps.audit.record(em, entry);
  }
}
