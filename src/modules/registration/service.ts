import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import type { Locale } from '../../platform/i18n/index.js';
import type { Mailer } from '../../platform/mail/index.js';
import { hashPassword } from '../../platform/passwords/index.js';
import { linkTokenHash, type LinkTokenCheck, type LinkTokens } from '../../platform/tokens/index.js';
import type { VerifiedCard } from '../card-reads/index.js';
import type { CardRegistry } from '../cards/index.js';
import { RegistryUnavailableError, type HouseholdRegistry, type PersonRecord } from '../household/index.js';
import type { Registration, RegistrationState } from './entities/registration.js';
import { registrations } from './repository.js';
import { ACTIVATE_TOKEN_PURPOSE, ACTIVATION_TTL_MS, CONFIRM_TOKEN_PURPOSE, CONFIRMATION_TTL_MS, personalPasswordError } from './rules.js';

/** What the identity step established: the card's holder, checked against the household registry. */
export interface Identity {
  idNumber: string;
  cardNumber: string;
  name: string;
  birthDate: string;
}

export interface Contacts {
  email: string;
  spareEmail?: string;
  localPhone?: string;
  mobile?: string;
}

/** The proof that lets a person name a new e-mail address (option b of resend and forgot): 戶籍鄉鎮里鄰 + mobile. */
export interface EmailChangeProof {
  email: string;
  villageCode: string;
  neighborhood: number;
  mobile: string;
}

/** What other modules see of a registration (never the hash, except to the password check). */
export interface Account {
  idNumber: string;
  cardNumber: string;
  state: RegistrationState;
  /** Null for a registration made through the app: nothing is mailed to it. */
  email: string | null;
  spareEmail: string | null;
  localPhone: string | null;
  mobile: string | null;
  locale: Locale;
  sessionEpoch: number;
  passwordChangedAt: Date;
  /** When this registration was applied for (a deleted one applied again starts anew: devices bound before are gone). */
  createdAt: Date;
}

/** What the counter records of an in-person registration. */
export interface CounterRecord {
  /** The staff member's username. */
  staff: string;
  /** The counter PC whose key signed the card read (null: the card signed it itself). */
  terminalId: string | null;
  /** The identity documents the staff member checked. */
  documents: readonly string[];
}

/** One accepted row of an employer's bulk upload: its line in the file and the person's card and contacts. */
export interface EmployerPerson {
  line: number;
  idNumber: string;
  cardNumber: string;
  email: string;
  mobile: string | null;
}

/** A batch of an employer's bulk upload (健保卡註冊申請整批資料上傳), for registerForEmployer. */
export interface EmployerBatch {
  unitCode: string;
  uploadId: string;
  /** The language of the mails (the upload's). */
  locale: Locale;
  people: readonly EmployerPerson[];
}

export type IdentityCheck = { ok: true; identity: Identity } | { ok: false; reason: 'mismatch' | 'unavailable' | 'registered' | 'pending' };
export type ConfirmResult = 'confirmed' | 'other_card' | Exclude<LinkTokenCheck['status'], 'valid'>;
export type ActivateResult = 'activated' | 'other_card' | Exclude<LinkTokenCheck['status'], 'valid'>;
export type Where = { clientAddress: string };
/** What 行動電話認證 did to the person's registration (suspended: nothing, the counter decides). */
export type AppRegistration = 'registered' | 'activated' | 'password_set' | 'suspended';

const toAccount = (r: Registration): Account => ({
  idNumber: r.idNumber,
  cardNumber: r.cardNumber,
  state: r.state,
  email: r.email ?? null,
  spareEmail: r.spareEmail ?? null,
  localPhone: r.localPhone ?? null,
  mobile: r.mobile ?? null,
  locale: r.locale === 'en' ? 'en' : 'zh-TW',
  sessionEpoch: r.sessionEpoch,
  passwordChangedAt: r.passwordChangedAt,
  createdAt: r.createdAt,
});

/** The contact columns of a registration as a form gave them (optional ones stored as null). */
const contactColumns = (c: Contacts) => ({ email: c.email, spareEmail: c.spareEmail ?? null, localPhone: c.localPhone ?? null, mobile: c.mobile ?? null });

/** A registration in force: applied and not deleted. */
const isLive = (r: Registration | null): r is Registration => !!r && r.state !== 'deleted';

export interface RegistrationDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  mail: Mailer;
  tokens: LinkTokens;
  household: HouseholdRegistry;
  cards: CardRegistry;
}

/** Registration: apply (card + household registry), confirm the e-mail, resend the confirmation; the account API. */
export class RegistrationService {
  constructor(private readonly deps: RegistrationDeps) {}

  /** The registration of a person, if any (deleted ones included: login says so). */
  async account(idNumber: string, em: EntityManager = this.deps.orm.em.fork()): Promise<Account | null> {
    const row = await registrations.find(em, idNumber);
    return row && toAccount(row);
  }

  /** The registration with its stored hash, for the password check alone (one read per login). */
  async forLogin(idNumber: string): Promise<{ account: Account; passwordHash: string } | null> {
    const row = await registrations.find(this.deps.orm.em.fork(), idNumber);
    return row && { account: toAccount(row), passwordHash: row.passwordHash };
  }

  /** 下一步 of the identity step: the card's holder must have this 戶號 and address, and no registration yet. */
  async checkIdentity(card: VerifiedCard, facts: { householdNumber: string; villageCode: string; neighborhood: number }, where: Where): Promise<IdentityCheck> {
    const result = await this.identityOf(card, facts);
    // A wrong 戶號 for a card in hand is someone guessing or mistyping: worth a row either way.
    if (!result.ok) await this.deps.audit.recordNow(this.deps.orm.em.fork(), { actorType: 'citizen', actorId: maskIdNumber(card.idNumber), action: 'registration.identity', person: card.idNumber, outcome: 'refused', clientAddress: where.clientAddress, detail: { reason: result.reason } });
    return result;
  }

  private async identityOf(card: VerifiedCard, facts: { householdNumber: string; villageCode: string; neighborhood: number }): Promise<IdentityCheck> {
    const existing = await registrations.find(this.deps.orm.em.fork(), card.idNumber);
    if (isLive(existing)) return { ok: false, reason: existing.state === 'pending' ? 'pending' : 'registered' };
    let person: PersonRecord | null;
    try {
      const answer = await this.deps.household.check({ idNumber: card.idNumber, ...facts });
      if (answer === 'unavailable') return { ok: false, reason: 'unavailable' };
      if (answer === 'mismatch') return { ok: false, reason: 'mismatch' };
      person = await this.deps.household.findPerson(card.idNumber);
    } catch (err) {
      if (err instanceof RegistryUnavailableError) return { ok: false, reason: 'unavailable' };
      throw err;
    }
    if (!person) return { ok: false, reason: 'mismatch' };
    return { ok: true, identity: { idNumber: card.idNumber, cardNumber: card.cardNumber, name: card.name, birthDate: person.birthDate } };
  }

  /**
   * 確認申請: the pending registration, its confirmation link and its mail in one transaction. 'registered' when
   * one exists already (a second submit, or another browser first): nothing is written, no second mail.
   */
  async apply(input: { identity: Identity; password: string; contacts: Contacts; locale: Locale } & Where): Promise<'applied' | 'registered'> {
    const passwordHash = await hashPassword(input.password);
    const now = this.deps.clock.now();
    const { identity, contacts } = input;
    return this.deps.orm.em.fork().transactional(async (em) => {
      const applied = await registrations.apply(em, {
        idNumber: identity.idNumber,
        cardNumber: identity.cardNumber,
        state: 'pending',
        passwordHash,
        passwordChangedAt: now,
        ...contactColumns(contacts),
        locale: input.locale,
        createdAt: now,
        confirmedAt: null,
        updatedAt: now,
      });
      this.audit(em, 'registration.apply', identity.idNumber, applied ? 'success' : 'refused', input.clientAddress, applied ? {} : { reason: 'registered' });
      if (!applied) return 'registered';
      await this.sendConfirmation(em, identity.idNumber, contacts.email, input.locale);
      return 'applied';
    });
  }

  /** What a confirmation link is now (its page shows the card panel only for a valid one). */
  confirmationStatus(tokenHash: string): Promise<LinkTokenCheck> {
    return this.deps.tokens.checkHashed(this.deps.orm.em.fork(), CONFIRM_TOKEN_PURPOSE, tokenHash);
  }

  /** 確定 on the confirmation page: the same card as the application, then active and the 註冊完成通知. */
  async confirm(tokenHash: string, card: VerifiedCard, where: Where): Promise<ConfirmResult> {
    return this.deps.orm.em.fork().transactional(async (em) => {
      const status = await this.deps.tokens.checkHashed(em, CONFIRM_TOKEN_PURPOSE, tokenHash);
      if (status.status !== 'valid') return status.status;
      const row = await registrations.find(em, status.subject);
      if (!row || row.state !== 'pending') return 'used';
      if (row.idNumber !== card.idNumber || row.cardNumber !== card.cardNumber) {
        this.audit(em, 'registration.confirm', row.idNumber, 'refused', where.clientAddress, { reason: 'other_card' });
        return 'other_card';
      }
      const used = await this.deps.tokens.consumeHashed(em, CONFIRM_TOKEN_PURPOSE, tokenHash);
      if (used.status !== 'valid') return used.status;
      const now = this.deps.clock.now();
      if (!(await registrations.setState(em, row.idNumber, 'pending', 'active', now, { confirmedAt: now }))) return 'used';
      if (row.email) await this.deps.mail.enqueue(em, { template: 'registration-complete', locale: toAccount(row).locale, to: row.email, data: {}, idempotencyKey: `registration-complete:${tokenHash.slice(0, 24)}` });
      this.audit(em, 'registration.confirm', row.idNumber, 'success', where.clientAddress);
      return 'confirmed';
    });
  }

  /** The registration state of each person that has one (the bulk upload's check), in one query. */
  accountStates(em: EntityManager, idNumbers: string[]): Promise<Map<string, RegistrationState>> {
    return registrations.states(em, idNumbers);
  }

  /**
   * An employer's bulk batch, in the caller's transaction: every person without a live registration becomes pending
   * without a password (needsPassword, viaUnit) in one statement, then gets an activation link (one insert) and the
   * 認證信 (one insert, key `registration-activation:<uploadId>:<line>`). A live registration (pending, active,
   * suspended) is left untouched and mailed nothing. Returns the ID numbers registered; an ID number given twice
   * counts at its first line.
   */
  async registerForEmployer(em: EntityManager, input: EmployerBatch): Promise<Set<string>> {
    const byId = new Map<string, EmployerPerson>();
    for (const person of input.people) {
      if (person.idNumber.length !== 10 || person.cardNumber.length !== 12) throw new Error(`bulk registration line ${person.line}: not an ID number and card number`);
      if (!byId.has(person.idNumber)) byId.set(person.idNumber, person);
    }
    const now = this.deps.clock.now();
    const registered = new Set(await registrations.registerForEmployer(em, { unitCode: input.unitCode, locale: input.locale, at: now, people: [...byId.values()] }));
    const people = [...byId.values()].filter((p) => registered.has(p.idNumber));
    if (!people.length) return registered;
    const tokens = await this.deps.tokens.issueMany(em, people.map((p) => ({ purpose: ACTIVATE_TOKEN_PURPOSE, subject: p.idNumber, ttlMs: ACTIVATION_TTL_MS })));
    const expiresAt = new Date(now.getTime() + ACTIVATION_TTL_MS);
    await this.deps.mail.enqueueMany(
      em,
      people.map((p, i) => ({
        template: 'registration-activation' as const,
        locale: input.locale,
        to: p.email,
        data: { unitCode: input.unitCode, linkPath: `/register/activate?token=${tokens[i]}`, expiresAt },
        idempotencyKey: `registration-activation:${input.uploadId}:${p.line}`,
      })),
    );
    // One row per batch, not per person: a thousand audit entities would cost more than the batch's own writes, and
    // the upload's rows already name each person and line.
    this.deps.audit.record(em, {
      actorType: 'employer',
      actorId: input.unitCode,
      action: 'registration.employer_register',
      subject: input.uploadId,
      outcome: 'success',
      detail: { registered: people.length, skipped: byId.size - people.length, firstLine: people[0]!.line, lastLine: people[people.length - 1]!.line },
    });
    return registered;
  }

  /** What an activation link (健保卡註冊認證作業) is now. */
  activationStatus(tokenHash: string): Promise<LinkTokenCheck> {
    return this.deps.tokens.checkHashed(this.deps.orm.em.fork(), ACTIVATE_TOKEN_PURPOSE, tokenHash);
  }

  /**
   * 確定 on 健保卡註冊認證作業: in one transaction the link is used, the password set, the registration active with
   * the card read as its card, and the 註冊完成通知 queued. Only a bulk-made registration still without a password.
   */
  async activate(tokenHash: string, card: VerifiedCard, password: string, where: Where): Promise<ActivateResult> {
    // Hashed before the transaction: argon2's time does not hold the row.
    const passwordHash = await hashPassword(password);
    return this.deps.orm.em.fork().transactional(async (em) => {
      const status = await this.deps.tokens.checkHashed(em, ACTIVATE_TOKEN_PURPOSE, tokenHash);
      if (status.status !== 'valid') return status.status;
      const row = await registrations.find(em, status.subject);
      // Activated some other way meanwhile (the counter, the app): the link has nothing left to do.
      if (!row || row.state !== 'pending' || !row.needsPassword) return 'used';
      if (row.idNumber !== card.idNumber) {
        this.audit(em, 'registration.activate', row.idNumber, 'refused', where.clientAddress, { reason: 'other_card' });
        return 'other_card';
      }
      const used = await this.deps.tokens.consumeHashed(em, ACTIVATE_TOKEN_PURPOSE, tokenHash);
      if (used.status !== 'valid') return used.status;
      const now = this.deps.clock.now();
      const changes = { passwordHash, passwordChangedAt: now, needsPassword: false, confirmedAt: now, cardNumber: card.cardNumber };
      if (!(await registrations.setState(em, row.idNumber, 'pending', 'active', now, changes))) return 'used';
      if (row.email) await this.deps.mail.enqueue(em, { template: 'registration-complete', locale: toAccount(row).locale, to: row.email, data: {}, idempotencyKey: `registration-complete:${tokenHash.slice(0, 24)}` });
      this.audit(em, 'registration.activate', row.idNumber, 'success', where.clientAddress, { viaUnit: row.viaUnit ?? '' });
      return 'activated';
    });
  }

  /** The password rules that need the person: not the ID number, the card number or the birth date (household registry). */
  async personalPasswordError(password: string, person: { idNumber: string; cardNumber: string }): Promise<string | undefined> {
    const record = await this.deps.household.findPerson(person.idNumber).catch(() => null);
    return personalPasswordError(password, { ...person, birthDate: record?.birthDate ?? '' });
  }

  /**
   * 重寄認證信. The answer is the same whether or not the card is registered: mail goes only to a pending
   * registration, with a new link that voids the earlier ones. With a proof, the new address replaces the stored one.
   * 'address_mismatch' concerns the household registry (the person's own record), not the registration.
   */
  async resend(card: VerifiedCard, choice: { proof?: EmailChangeProof; locale: Locale } & Where): Promise<'done' | 'address_mismatch' | 'unavailable'> {
    const proofCheck = choice.proof ? await this.addressMatches(card.idNumber, choice.proof) : 'match';
    if (proofCheck !== 'match') return proofCheck;
    await this.deps.orm.em.fork().transactional(async (em) => {
      const row = await registrations.find(em, card.idNumber);
      if (!row || row.state !== 'pending') {
        this.audit(em, 'registration.resend', card.idNumber, 'refused', choice.clientAddress, { reason: row ? row.state : 'none' });
        return;
      }
      let to = row.email;
      if (choice.proof) {
        if (!this.mobileMatches(row, choice.proof.mobile)) {
          this.audit(em, 'registration.resend', row.idNumber, 'refused', choice.clientAddress, { reason: 'mobile' });
          return;
        }
        to = choice.proof.email;
        await registrations.update(em, row.idNumber, { email: to, updatedAt: this.deps.clock.now() });
      }
      if (!to) {
        this.audit(em, 'registration.resend', row.idNumber, 'refused', choice.clientAddress, { reason: 'no_email' });
        return;
      }
      await this.sendLink(em, row, to);
      this.audit(em, 'registration.resend', row.idNumber, 'success', choice.clientAddress, { emailChanged: !!choice.proof });
    });
    return 'done';
  }

  /**
   * 行動電話認證 (seed 004 Q6, Q7; rule 4(2): no e-mail confirmation through the app), in the caller's transaction:
   * none or deleted → a new active registration without an address; pending → active; active → the new password
   * (every other session ends). A suspended one is left as it is.
   */
  async registerByApp(em: EntityManager, input: { identity: Identity; password: string; mobile: string; locale: Locale } & Where): Promise<AppRegistration> {
    const { identity } = input;
    const now = this.deps.clock.now();
    let row = await registrations.find(em, identity.idNumber);
    if (!row || row.state === 'deleted') {
      const applied = await registrations.apply(em, {
        idNumber: identity.idNumber,
        cardNumber: identity.cardNumber,
        state: 'active',
        passwordHash: await hashPassword(input.password),
        passwordChangedAt: now,
        email: null,
        spareEmail: null,
        localPhone: null,
        mobile: input.mobile,
        locale: input.locale,
        createdAt: now,
        confirmedAt: now,
        updatedAt: now,
      });
      if (applied) {
        this.audit(em, 'registration.app_register', identity.idNumber, 'success', input.clientAddress, { via: 'app' });
        return 'registered';
      }
      // Another request made a live one a moment ago: treat it as that one.
      row = await registrations.find(em, identity.idNumber);
      if (!row) throw new Error('registration vanished during 行動電話認證');
    }
    if (row.state === 'suspended') {
      this.audit(em, 'registration.app_register', identity.idNumber, 'refused', input.clientAddress, { via: 'app', reason: 'suspended' });
      return 'suspended';
    }
    const activated = row.state === 'pending' && (await registrations.setState(em, identity.idNumber, 'pending', 'active', now, { confirmedAt: now }));
    await this.setPassword(em, identity.idNumber, input.password);
    this.audit(em, 'registration.app_register', identity.idNumber, 'success', input.clientAddress, { via: 'app', was: activated ? 'pending' : 'active' });
    return activated ? 'activated' : 'password_set';
  }

  /**
   * 臨櫃註冊 (rule 4(1): in person, no e-mail confirmation), in the caller's transaction: none or deleted → a new
   * active registration; pending → active with the password and contacts given now. An active or suspended one is
   * left alone ('exists'). The audit row names the staff member, the terminal and the documents they checked.
   */
  async registerAtCounter(
    em: EntityManager,
    input: { identity: Identity; password: string; contacts: Contacts; locale: Locale; counter: CounterRecord } & Where,
  ): Promise<'registered' | 'activated' | 'exists'> {
    const { identity, contacts, counter } = input;
    const now = this.deps.clock.now();
    const passwordHash = await hashPassword(input.password);
    const record = (outcome: 'success' | 'refused', detail: Record<string, string>) =>
      this.deps.audit.record(em, {
        actorType: 'staff',
        actorId: counter.staff,
        action: 'registration.counter_register',
        person: identity.idNumber,
        outcome,
        clientAddress: input.clientAddress,
        detail: { terminal: counter.terminalId ?? 'card-signed', documents: counter.documents.join(','), ...detail },
      });
    const fields = {
      cardNumber: identity.cardNumber,
      state: 'active' as const,
      passwordHash,
      passwordChangedAt: now,
      ...contactColumns(contacts),
      locale: input.locale,
      confirmedAt: now,
      updatedAt: now,
      needsPassword: false,
    };
    let result: 'registered' | 'activated' | 'exists';
    if (await registrations.apply(em, { idNumber: identity.idNumber, ...fields, createdAt: now })) result = 'registered';
    else {
      const row = await registrations.find(em, identity.idNumber);
      // A pending application becomes active with what the person gave at the counter; its mailed link stops mattering.
      result = row?.state === 'pending' && (await registrations.setState(em, identity.idNumber, 'pending', 'active', now, fields)) ? 'activated' : 'exists';
    }
    if (result === 'exists') {
      record('refused', { reason: 'registered' });
      return result;
    }
    record('success', { was: result === 'activated' ? 'pending' : 'none' });
    await this.deps.mail.enqueue(em, {
      template: 'registration-complete',
      locale: input.locale,
      to: contacts.email,
      data: {},
      idempotencyKey: `registration-complete:counter:${identity.idNumber}:${now.getTime()}`,
    });
    return result;
  }

  /** 註冊停用, in the caller's transaction: an active registration suspended, its sessions and app tokens ended. */
  async suspend(em: EntityManager, idNumber: string): Promise<boolean> {
    return registrations.suspend(em, idNumber, this.deps.clock.now());
  }

  /** 恢復註冊, in the caller's transaction: a suspended registration active again (its old sessions stay ended). */
  async reinstate(em: EntityManager, idNumber: string): Promise<boolean> {
    return registrations.setState(em, idNumber, 'suspended', 'active', this.deps.clock.now());
  }

  /**
   * 重寄認證信 at the counter, in the caller's transaction: a new link to a pending registration's address (an
   * activation link for one a bulk upload made, which has no password yet).
   */
  async resendConfirmation(em: EntityManager, idNumber: string): Promise<'sent' | 'not_pending' | 'no_email'> {
    const row = await registrations.find(em, idNumber);
    if (!row || row.state !== 'pending') return 'not_pending';
    if (!row.email) return 'no_email';
    await this.sendLink(em, row, row.email);
    return 'sent';
  }

  /** Whether 戶籍鄉鎮里鄰 are the person's in the household registry. */
  async addressMatches(idNumber: string, proof: Pick<EmailChangeProof, 'villageCode' | 'neighborhood'>): Promise<'match' | 'address_mismatch' | 'unavailable'> {
    try {
      const person = await this.deps.household.findPerson(idNumber);
      return person && person.villageCode === proof.villageCode && person.neighborhood === proof.neighborhood ? 'match' : 'address_mismatch';
    } catch (err) {
      if (err instanceof RegistryUnavailableError) return 'unavailable';
      throw err;
    }
  }

  /** The stored mobile must be the one given (no stored mobile: no change of address by this route). */
  mobileMatches(account: { mobile?: string | null }, mobile: string): boolean {
    return !!account.mobile && account.mobile === mobile.trim();
  }

  /** A new password (reset or change): ends every other session. Returns the new session epoch. */
  async setPassword(em: EntityManager, idNumber: string, password: string): Promise<number | null> {
    return registrations.setPassword(em, idNumber, await hashPassword(password), this.deps.clock.now());
  }

  /** 基本資料異動 and option b's new address. */
  async updateContacts(em: EntityManager, idNumber: string, contacts: Partial<Contacts>): Promise<boolean> {
    const changes: Partial<Registration> = { updatedAt: this.deps.clock.now() };
    if (contacts.email !== undefined) changes.email = contacts.email;
    if ('spareEmail' in contacts) changes.spareEmail = contacts.spareEmail ?? null;
    if ('localPhone' in contacts) changes.localPhone = contacts.localPhone ?? null;
    if ('mobile' in contacts) changes.mobile = contacts.mobile ?? null;
    return registrations.update(em, idNumber, changes);
  }

  /** 重寄認證信's new link: 健保卡註冊認證作業 for a registration without a password yet, else the e-mail confirmation. */
  private async sendLink(em: EntityManager, row: Registration, to: string): Promise<void> {
    const locale = toAccount(row).locale;
    if (!row.needsPassword) return this.sendConfirmation(em, row.idNumber, to, locale);
    const token = await this.deps.tokens.issue(em, { purpose: ACTIVATE_TOKEN_PURPOSE, subject: row.idNumber, ttlMs: ACTIVATION_TTL_MS });
    const expiresAt = new Date(this.deps.clock.now().getTime() + ACTIVATION_TTL_MS);
    await this.deps.mail.enqueue(em, {
      template: 'registration-activation',
      locale,
      to,
      data: { unitCode: row.viaUnit ?? '', linkPath: `/register/activate?token=${token}`, expiresAt },
      idempotencyKey: `registration-activation:resend:${linkTokenHash(token).slice(0, 24)}`,
    });
  }

  private async sendConfirmation(em: EntityManager, idNumber: string, to: string, locale: Locale): Promise<void> {
    const token = await this.deps.tokens.issue(em, { purpose: CONFIRM_TOKEN_PURPOSE, subject: idNumber, ttlMs: CONFIRMATION_TTL_MS });
    const expiresAt = new Date(this.deps.clock.now().getTime() + CONFIRMATION_TTL_MS);
    await this.deps.mail.enqueue(em, {
      template: 'registration-confirmation',
      locale,
      to,
      data: { linkPath: `/register/confirm?token=${token}`, expiresAt },
      idempotencyKey: `registration-confirmation:${linkTokenHash(token).slice(0, 24)}`,
    });
  }

  private audit(em: EntityManager, action: string, idNumber: string, outcome: 'success' | 'failure' | 'refused', clientAddress: string, detail: Record<string, string | boolean> = {}): void {
    this.deps.audit.record(em, { actorType: 'citizen', actorId: maskIdNumber(idNumber), action, person: idNumber, outcome, clientAddress, detail });
  }
}
