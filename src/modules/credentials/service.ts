import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditLog, type Outcome } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import type { Mailer } from '../../platform/mail/index.js';
import { verifyPassword } from '../../platform/passwords/index.js';
import { linkTokenHash, type LinkTokenCheck, type LinkTokens } from '../../platform/tokens/index.js';
import type { VerifiedCard } from '../card-reads/index.js';
import type { HouseholdRegistry } from '../household/index.js';
import { personalPasswordError, type Contacts, type EmailChangeProof, type RegistrationService } from '../registration/index.js';
import { lockouts, type LockState } from './repository.js';

/** Who a login session is for: the person and the registration's session epoch at login. */
export interface LoginUser {
  idNumber: string;
  epoch: number;
}

export type LoginRefusal = 'wrong_password' | 'locked' | 'pending' | 'suspended' | 'deleted' | 'none';
export type LoginResult = { ok: true; user: LoginUser } | { ok: false; reason: LoginRefusal };
export type ResetResult = 'done' | 'other_card' | 'refused' | Exclude<LinkTokenCheck['status'], 'valid'>;
export type Where = { clientAddress: string };

/** 忘記註冊密碼's link: 1 day (QUALITY.md: reset 1 day). */
export const RESET_TTL_MS = 24 * 60 * 60 * 1000;
export const RESET_TOKEN_PURPOSE = 'reset';

export interface CredentialsDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  mail: Mailer;
  tokens: LinkTokens;
  registration: RegistrationService;
  household: HouseholdRegistry;
  /** LOGIN_LOCKOUT_ATTEMPTS. */
  lockoutAttempts: number;
}

/** Card + password login, the lockout, 忘記註冊密碼 and the logged-in changes of password and contacts. */
export class CredentialsService {
  constructor(private readonly deps: CredentialsDeps) {}

  private get em(): EntityManager {
    return this.deps.orm.em.fork();
  }

  /**
   * 登入 with a verified card and the password. argon2 runs on every path (a decoy hash without a registration), so
   * no answer is faster than another; a locked person gets the wrong-password answer and the try does not count.
   */
  async login(card: VerifiedCard, password: string, where: Where): Promise<LoginResult> {
    return this.checkPassword(card.idNumber, password, where);
  }

  /**
   * The password check of login() without a card (the mobile app, on a bound device): the same argon2, lockout
   * counting and audit rows, so wrong passwords there count toward the web lockout.
   */
  async checkPassword(idNumber: string, password: string, where: Where & { via?: 'app' }): Promise<LoginResult> {
    const [registration, lock] = await Promise.all([this.deps.registration.forLogin(idNumber), lockouts.find(this.em, idNumber)]);
    const account = registration?.account;
    const matches = await verifyPassword(account?.state === 'active' ? registration!.passwordHash : null, password);
    if (matches && account?.state === 'active' && !lock) {
      // The usual login: no count to reset, one audit row in one statement.
      await this.deps.audit.insertNow(this.em, this.entry('login', idNumber, 'success', where));
      return { ok: true, user: { idNumber, epoch: account.sessionEpoch } };
    }
    return this.em.transactional(async (em): Promise<LoginResult> => {
      if (!account || account.state !== 'active') {
        const reason: LoginRefusal = account ? account.state as 'pending' | 'suspended' | 'deleted' : 'none';
        this.audit(em, 'login', idNumber, 'refused', where, { reason });
        return { ok: false, reason };
      }
      if (lock?.lockedAt) {
        this.audit(em, 'login', idNumber, 'refused', where, { reason: 'locked' });
        return { ok: false, reason: 'locked' };
      }
      if (!matches) {
        const counted = await lockouts.countFailure(em, idNumber, this.deps.lockoutAttempts, this.deps.clock.now());
        // null: another process's try locked it between the read and this update.
        this.audit(em, 'login', idNumber, 'failure', where, { reason: counted ? 'wrong_password' : 'locked', consecutiveFailures: counted?.failures });
        if (counted?.lockedNow) this.audit(em, 'login.lockout', idNumber, 'success', where, { consecutiveFailures: counted.failures });
        return { ok: false, reason: counted ? 'wrong_password' : 'locked' };
      }
      await lockouts.resetCount(em, idNumber);
      this.audit(em, 'login', idNumber, 'success', where);
      return { ok: true, user: { idNumber, epoch: account.sessionEpoch } };
    });
  }

  /** Whether a login session may go on: the registration is still active and no password change ended it. */
  async isCurrent(user: LoginUser): Promise<boolean> {
    const account = await this.deps.registration.account(user.idNumber);
    return !!account && account.state === 'active' && account.sessionEpoch === user.epoch;
  }

  async recordLogout(idNumber: string, where: Where): Promise<void> {
    await this.deps.audit.recordNow(this.em, this.entry('logout', idNumber, 'success', where));
  }

  async lockState(idNumber: string): Promise<{ locked: boolean; consecutiveFailures: number; lockedAt: Date | null }> {
    const row: LockState | null = await lockouts.find(this.em, idNumber);
    return { locked: !!row?.lockedAt, consecutiveFailures: row?.consecutiveFailures ?? 0, lockedAt: row?.lockedAt ?? null };
  }

  /** Lifts a lockout (a reset here, the counter later). Whether there was one. */
  unlock(em: EntityManager, idNumber: string): Promise<boolean> {
    return lockouts.clear(em, idNumber);
  }

  /** The password rules that need the person: not the ID number, the card number or the birth date. */
  async personalPasswordError(password: string, person: { idNumber: string; cardNumber: string }): Promise<string | undefined> {
    const record = await this.deps.household.findPerson(person.idNumber).catch(() => null);
    return personalPasswordError(password, { ...person, birthDate: record?.birthDate ?? '' });
  }

  /**
   * 忘記註冊密碼: the same answer whether or not the card is registered. The reset mail goes only to an active
   * registration (locked or not), with a new link that voids the earlier ones; with a proof whose address and
   * mobile match, to the new address, which replaces the stored one.
   */
  async requestReset(card: VerifiedCard, choice: { proof?: EmailChangeProof } & Where): Promise<'done' | 'address_mismatch' | 'unavailable'> {
    const proofCheck = choice.proof ? await this.deps.registration.addressMatches(card.idNumber, choice.proof) : 'match';
    if (proofCheck !== 'match') return proofCheck;
    await this.em.transactional(async (em) => {
      const account = await this.deps.registration.account(card.idNumber, em);
      if (!account || account.state !== 'active') {
        this.audit(em, 'password.reset_request', card.idNumber, 'refused', choice, { reason: account ? account.state : 'none' });
        return;
      }
      let to = account.email;
      if (choice.proof) {
        if (!this.deps.registration.mobileMatches(account, choice.proof.mobile)) {
          this.audit(em, 'password.reset_request', card.idNumber, 'refused', choice, { reason: 'mobile' });
          return;
        }
        to = choice.proof.email;
        if (to !== account.email) {
          await this.deps.registration.updateContacts(em, card.idNumber, { email: to });
          await this.emailChanged(em, account.email, account.locale);
        }
      }
      // Registered through the app without an address, and none given: the same answer, nothing to mail.
      if (!to) {
        this.audit(em, 'password.reset_request', card.idNumber, 'refused', choice, { reason: 'no_email' });
        return;
      }
      const token = await this.deps.tokens.issue(em, { purpose: RESET_TOKEN_PURPOSE, subject: card.idNumber, ttlMs: RESET_TTL_MS });
      await this.deps.mail.enqueue(em, {
        template: 'password-reset',
        locale: account.locale,
        to,
        data: { linkPath: `/reset-password?token=${token}`, expiresAt: new Date(this.deps.clock.now().getTime() + RESET_TTL_MS) },
        idempotencyKey: `password-reset:${linkTokenHash(token).slice(0, 24)}`,
      });
      this.audit(em, 'password.reset_request', card.idNumber, 'success', choice, { emailChanged: !!choice.proof && to !== account.email });
    });
    return 'done';
  }

  /** What a reset link is now (its page shows the form only for a valid one). */
  resetStatus(tokenHash: string): Promise<LinkTokenCheck> {
    return this.deps.tokens.checkHashed(this.em, RESET_TOKEN_PURPOSE, tokenHash);
  }

  /** 確定 on the reset page: the link's own person's card; the link used, the new password, the lockout lifted, a notice. */
  async reset(tokenHash: string, card: VerifiedCard, password: string, where: Where): Promise<ResetResult> {
    return this.em.transactional(async (em): Promise<ResetResult> => {
      const status = await this.deps.tokens.checkHashed(em, RESET_TOKEN_PURPOSE, tokenHash);
      if (status.status !== 'valid') return status.status;
      if (status.subject !== card.idNumber) {
        this.audit(em, 'password.reset', status.subject, 'refused', where, { reason: 'other_card' });
        return 'other_card';
      }
      const account = await this.deps.registration.account(card.idNumber, em);
      if (!account || account.state !== 'active') {
        this.audit(em, 'password.reset', card.idNumber, 'refused', where, { reason: account ? account.state : 'none' });
        return 'refused';
      }
      const used = await this.deps.tokens.consumeHashed(em, RESET_TOKEN_PURPOSE, tokenHash);
      if (used.status !== 'valid') return used.status;
      await this.deps.registration.setPassword(em, card.idNumber, password);
      const unlocked = await this.unlock(em, card.idNumber);
      await this.passwordChanged(em, account.email, account.locale, `reset:${tokenHash.slice(0, 24)}`);
      this.audit(em, 'password.reset', card.idNumber, 'success', where, { unlocked });
      return 'done';
    });
  }

  /** 註冊密碼變更: every other session ends; returns the new epoch for this one, null without a registration. */
  async changePassword(idNumber: string, password: string, where: Where): Promise<number | null> {
    return this.em.transactional(async (em) => {
      const account = await this.deps.registration.account(idNumber, em);
      if (!account) return null;
      const epoch = await this.deps.registration.setPassword(em, idNumber, password);
      if (epoch === null) return null;
      await this.passwordChanged(em, account.email, account.locale, `change:${randomUUID()}`);
      this.audit(em, 'password.change', idNumber, 'success', where);
      return epoch;
    });
  }

  /** 基本資料異動: a change of the main address is told to the old one. */
  async updateProfile(idNumber: string, contacts: Contacts, where: Where): Promise<boolean> {
    return this.em.transactional(async (em) => {
      const account = await this.deps.registration.account(idNumber, em);
      if (!account) return false;
      await this.deps.registration.updateContacts(em, idNumber, {
        email: contacts.email,
        spareEmail: contacts.spareEmail,
        localPhone: contacts.localPhone,
        mobile: contacts.mobile,
      });
      const emailChanged = contacts.email !== account.email;
      if (emailChanged) await this.emailChanged(em, account.email, account.locale);
      this.audit(em, 'account.contacts_change', idNumber, 'success', where, {
        emailChanged,
        spareEmailChanged: (contacts.spareEmail ?? null) !== account.spareEmail,
        localPhoneChanged: (contacts.localPhone ?? null) !== account.localPhone,
        mobileChanged: (contacts.mobile ?? null) !== account.mobile,
      });
      return true;
    });
  }

  private async passwordChanged(em: EntityManager, to: string | null, locale: 'zh-TW' | 'en', key: string): Promise<void> {
    if (!to) return;
    await this.deps.mail.enqueue(em, { template: 'password-changed', locale, to, data: { changedAt: this.deps.clock.now() }, idempotencyKey: `password-changed:${key}` });
  }

  private async emailChanged(em: EntityManager, oldAddress: string | null, locale: 'zh-TW' | 'en'): Promise<void> {
    // An address given for the first time has no old one to tell.
    if (!oldAddress) return;
    const now = this.deps.clock.now();
    await this.deps.mail.enqueue(em, {
      template: 'email-changed',
      locale,
      to: oldAddress,
      data: { changedAt: now },
      // One notice per change: the change's own transaction writes it once.
      idempotencyKey: `email-changed:${randomUUID()}`,
    });
  }

  private entry(action: string, idNumber: string, outcome: Outcome, where: Where & { via?: string }, detail: Record<string, string | number | boolean | undefined> = {}) {
    return { actorType: 'citizen' as const, actorId: maskIdNumber(idNumber), action, person: idNumber, outcome, clientAddress: where.clientAddress, detail: { ...detail, via: where.via } };
  }

  private audit(em: EntityManager, action: string, idNumber: string, outcome: Outcome, where: Where & { via?: string }, detail: Record<string, string | number | boolean | undefined> = {}): void {
    this.deps.audit.record(em, this.entry(action, idNumber, outcome, where, detail));
  }
}
