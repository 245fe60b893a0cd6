import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditEntry, type AuditEvent, type AuditLog, type Outcome } from '../../../platform/audit/index.js';
import type { Clock } from '../../../platform/clock.js';
import type { Orm } from '../../../platform/db/index.js';
import type { Locale } from '../../../platform/i18n/index.js';
import type { VerifiedCard } from '../../card-reads/index.js';
import type { CardRegistry } from '../../cards/index.js';
import type { Device, DevicesService } from '../../devices/index.js';
import { RegistryUnavailableError, type HouseholdRegistry } from '../../household/index.js';
import type { Account, Contacts, RegistrationService } from '../../registration/index.js';

/** The identity documents a clerk may tick (at least one with a photo: the NHI card alone is not enough). */
export const IDENTITY_DOCUMENTS = ['national_id', 'resident_certificate', 'passport', 'driving_licence', 'household_register'] as const;
export type IdentityDocument = (typeof IDENTITY_DOCUMENTS)[number];

export type Where = { clientAddress: string };

/** What the lookup page shows of a person. */
export interface PersonView {
  idNumber: string;
  maskedId: string;
  name: string | null;
  account: Account | null;
  devices: Device[];
  lock: { locked: boolean; consecutiveFailures: number; lockedAt: Date | null };
  events: AuditEvent[];
}

export interface CounterDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  registration: RegistrationService;
  devices: DevicesService;
  cards: CardRegistry;
  household: HouseholdRegistry;
  credentials: {
    unlock(em: EntityManager, idNumber: string): Promise<boolean>;
    lockState(idNumber: string): Promise<{ locked: boolean; consecutiveFailures: number; lockedAt: Date | null }>;
  };
}

export type CounterRegistration =
  | { ok: true; result: 'registered' | 'activated'; deviceCode?: { code: string; expiresAt: Date } }
  | { ok: false; reason: 'exists' | 'unavailable' | 'not_in_registry' };

/** The counter's work on persons: in-person registration, the lookup, suspension, reinstatement, unlock, resend. */
export class CounterService {
  constructor(private readonly deps: CounterDeps) {}

  private get em(): EntityManager {
    return this.deps.orm.em.fork();
  }

  /** The person behind an ID number or a card number; null when neither the card nor the household registry knows them. */
  async find(query: string): Promise<string | null> {
    const text = query.trim().toUpperCase();
    if (/^\d{12}$/.test(text)) return (await this.deps.cards.findByNumber(text))?.idNumber ?? null;
    if (!/^[A-Z][A-Z0-9]\d{8}$/.test(text)) return null;
    const [account, person] = await Promise.all([this.deps.registration.account(text), this.personName(text)]);
    return account || person ? text : null;
  }

  async view(idNumber: string): Promise<PersonView> {
    const [name, account, devices, lock, events] = await Promise.all([
      this.personName(idNumber),
      this.deps.registration.account(idNumber),
      this.deps.devices.devices(idNumber),
      this.deps.credentials.lockState(idNumber),
      this.deps.audit.recent(this.em, { person: idNumber, limit: 20 }),
    ]);
    return { idNumber, maskedId: maskIdNumber(idNumber), name, account, devices, lock, events };
  }

  /**
   * 臨櫃註冊: the card read at the counter, the documents the staff member checked, the password the applicant typed.
   * Active at once with its completion mail; a device code on the spot when asked for.
   */
  async register(input: {
    card: VerifiedCard;
    password: string;
    contacts: Contacts;
    documents: readonly IdentityDocument[];
    deviceCode: boolean;
    locale: Locale;
    staff: string;
  } & Where): Promise<CounterRegistration> {
    const { card } = input;
    let birthDate: string;
    try {
      const person = await this.deps.household.findPerson(card.idNumber);
      if (!person) return { ok: false, reason: 'not_in_registry' };
      birthDate = person.birthDate;
    } catch (err) {
      if (err instanceof RegistryUnavailableError) return { ok: false, reason: 'unavailable' };
      throw err;
    }
    const result = await this.em.transactional((em) =>
      this.deps.registration.registerAtCounter(em, {
        identity: { idNumber: card.idNumber, cardNumber: card.cardNumber, name: card.name, birthDate },
        password: input.password,
        contacts: input.contacts,
        locale: input.locale,
        counter: { staff: input.staff, terminalId: card.terminalId ?? null, documents: input.documents },
        clientAddress: input.clientAddress,
      }),
    );
    if (result === 'exists') return { ok: false, reason: 'exists' };
    // The code is the person's own (its audit row is theirs); issued once the registration is in.
    const deviceCode = input.deviceCode ? await this.deps.devices.issueCode(card.idNumber, input) : undefined;
    return { ok: true, result, ...(deviceCode ? { deviceCode } : {}) };
  }

  /** 註冊停用: the registration suspended, every session and app token ended, every device disabled, in one transaction. */
  async suspend(idNumber: string, reason: string, staff: string, where: Where): Promise<boolean> {
    return this.em.transactional(async (em) => {
      if (!(await this.deps.registration.suspend(em, idNumber))) return false;
      const devices = await this.deps.devices.disableAll(em, idNumber);
      this.record(em, staff, 'registration.suspend', idNumber, 'success', where, { reason, devicesDisabled: devices });
      return true;
    });
  }

  /** 恢復註冊: login works again; the devices stay disabled until the person enables them. */
  async reinstate(idNumber: string, staff: string, where: Where): Promise<boolean> {
    return this.em.transactional(async (em) => {
      if (!(await this.deps.registration.reinstate(em, idNumber))) return false;
      this.record(em, staff, 'registration.reinstate', idNumber, 'success', where);
      return true;
    });
  }

  /** 解除鎖定. */
  async unlock(idNumber: string, staff: string, where: Where): Promise<boolean> {
    return this.em.transactional(async (em) => {
      if (!(await this.deps.credentials.unlock(em, idNumber))) return false;
      this.record(em, staff, 'login.unlock', idNumber, 'success', where);
      return true;
    });
  }

  /** 重寄認證信 for a pending registration, to its stored address. */
  async resend(idNumber: string, staff: string, where: Where): Promise<'sent' | 'not_pending' | 'no_email'> {
    return this.em.transactional(async (em) => {
      const sent = await this.deps.registration.resendConfirmation(em, idNumber);
      this.record(em, staff, 'registration.resend', idNumber, sent === 'sent' ? 'success' : 'refused', where, sent === 'sent' ? { via: 'counter' } : { via: 'counter', reason: sent });
      return sent;
    });
  }

  private async personName(idNumber: string): Promise<string | null> {
    try {
      return (await this.deps.household.findPerson(idNumber))?.name ?? null;
    } catch (err) {
      if (err instanceof RegistryUnavailableError) return null;
      throw err;
    }
  }

  private record(em: EntityManager, staff: string, action: string, idNumber: string, outcome: Outcome, where: Where, detail: AuditEntry['detail'] = {}): void {
    this.deps.audit.record(em, { actorType: 'staff', actorId: staff, action, person: idNumber, outcome, clientAddress: where.clientAddress, detail });
  }
}
