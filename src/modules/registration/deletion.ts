import { randomBytes } from 'node:crypto';
import { deriveKey, keyedDigest, randomCode } from '../../platform/secrets.js';
import { maskIdNumber, type AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import type { Mailer } from '../../platform/mail/index.js';
import type { LinkTokens } from '../../platform/tokens/index.js';
import type { CardRegistry } from '../cards/index.js';
import type { Registration } from './entities/registration.js';
import { deletionRequests, registrations } from './repository.js';
import { ACTIVATE_TOKEN_PURPOSE, CONFIRM_TOKEN_PURPOSE } from './rules.js';
import type { RegistrationService, Where } from './service.js';

/** SPEC.md "Delete registration": the code is valid 10 minutes and survives 5 wrong tries. */
export const DELETION_CODE_TTL_MS = 10 * 60 * 1000;
export const DELETION_CODE_ATTEMPTS = 5;
/** No look-alikes (0/O/o, 1/I/l/i): the code is typed from a mail, case-sensitively. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789';
const CODE_LENGTH = 8;
/** The password reset's link purpose (credentials module): a deleted registration's reset link must stop working. */
const RESET_TOKEN_PURPOSE = 'reset';

export const newFlowId = (): string => randomBytes(16).toString('base64url');

export interface DeletionDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  mail: Mailer;
  tokens: LinkTokens;
  cards: CardRegistry;
  registration: RegistrationService;
  /** Keys the codes' HMAC: a database reader alone cannot try codes offline. */
  secret: string;
}

export interface DeletionRequestInput extends Where {
  idNumber: string;
  cardNumber: string;
  /** The 檢核 the request comes from (idempotency of 送出刪除註冊). */
  flowId: string;
  /** Option b: a new address, proven by 戶籍鄉鎮里鄰. */
  newEmail?: { email: string; villageCode: string; neighborhood: number };
}

/** 刪除註冊申請 and 確認刪除註冊作業. Neither answer tells whether the ID number has a registration. */
export class DeletionService {
  private readonly codeKey: Buffer;

  constructor(private readonly deps: DeletionDeps) {
    this.codeKey = deriveKey(deps.secret, 'deletion-code');
  }

  /**
   * 送出刪除註冊. Mail goes only to a pending or active registration whose card this is (the card it was made with,
   * or another valid card of the person in the card registry); otherwise a refusal is audited and nothing else
   * happens. A suspended registration is not deleted online: deleting and registering again would end a suspension.
   */
  async request(input: DeletionRequestInput): Promise<void> {
    const { idNumber } = input;
    const row = await registrations.find(this.deps.orm.em.fork(), idNumber);
    const refusal = await this.refusalFor(row, input);
    if (refusal || !row) {
      await this.deps.audit.recordNow(this.deps.orm.em.fork(), this.entry('registration.delete.request', idNumber, 'refused', input.clientAddress, { reason: refusal ?? 'none', emailChanged: !!input.newEmail }));
      return;
    }
    const code = randomCode(CODE_ALPHABET, CODE_LENGTH);
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + DELETION_CODE_TTL_MS);
    const to = input.newEmail?.email ?? row.email;
    if (!to) return; // refusalFor refused it already (no address)
    await this.deps.orm.em.fork().transactional(async (em) => {
      const opened = await deletionRequests.open(em, { idNumber, flowId: input.flowId, codeHash: this.codeHash(idNumber, code), email: to, createdAt: now, expiresAt });
      // The same 送出刪除註冊 again (a double click, a reload): the first mail stands.
      if (!opened) return;
      await this.deps.mail.enqueue(em, {
        template: 'deletion-confirmation',
        locale: row.locale === 'en' ? 'en' : 'zh-TW',
        to,
        data: { code, linkPath: '/delete-registration/confirm', expiresAt },
        idempotencyKey: `deletion-confirmation:${input.flowId}`,
      });
      this.deps.audit.record(em, this.entry('registration.delete.request', idNumber, 'success', input.clientAddress, { emailChanged: !!input.newEmail }));
    });
  }

  private async refusalFor(row: Registration | null, input: DeletionRequestInput): Promise<string | undefined> {
    if (!row) return 'none';
    if (row.state !== 'active' && row.state !== 'pending') return row.state;
    // Registered through the app without an address: the code can only go to one given with option b.
    if (!row.email && !input.newEmail) return 'no_email';
    if (row.cardNumber !== input.cardNumber) {
      const card = await this.deps.cards.findByNumber(input.cardNumber);
      if (!card || card.idNumber !== row.idNumber || card.status !== 'valid') return 'card';
    }
    if (input.newEmail) {
      const address = await this.deps.registration.addressMatches(row.idNumber, input.newEmail);
      if (address !== 'match') return address;
    }
    return undefined;
  }

  /**
   * 確認: the person's open request and its code (case-sensitive). A wrong code counts against the request (the
   * 5th voids it); the right one deletes the registration, ends its sessions, voids its open links and mails the
   * 刪除通知, all in one transaction. 'refused' is the same answer for no request, a wrong, used or expired code.
   */
  async confirm(input: { idNumber: string; code: string } & Where): Promise<'deleted' | 'refused'> {
    const { idNumber, clientAddress } = input;
    const now = this.deps.clock.now();
    return this.deps.orm.em.fork().transactional(async (em) => {
      const request = await deletionRequests.findOpen(em, idNumber, now);
      const codeHash = this.codeHash(idNumber, input.code);
      if (!request || request.codeHash !== codeHash) {
        if (request) await deletionRequests.countFailure(em, idNumber, DELETION_CODE_ATTEMPTS, now);
        this.deps.audit.record(em, this.entry('registration.delete.confirm', idNumber, 'refused', clientAddress, { reason: request ? 'wrong' : 'none' }));
        return 'refused';
      }
      const registration = await registrations.find(em, idNumber);
      if (!registration || !(await deletionRequests.use(em, idNumber, codeHash, now)) || !(await registrations.markDeleted(em, idNumber, now))) {
        this.deps.audit.record(em, this.entry('registration.delete.confirm', idNumber, 'refused', clientAddress, { reason: 'state' }));
        return 'refused';
      }
      await this.deps.tokens.supersedeAll(em, CONFIRM_TOKEN_PURPOSE, idNumber);
      await this.deps.tokens.supersedeAll(em, RESET_TOKEN_PURPOSE, idNumber);
      await this.deps.tokens.supersedeAll(em, ACTIVATE_TOKEN_PURPOSE, idNumber);
      const locale = registration.locale === 'en' ? 'en' : 'zh-TW';
      // The stored address always hears of it; option b's address too, when the request went there.
      for (const to of new Set([registration.email, request.email].filter((a): a is string => !!a))) {
        await this.deps.mail.enqueue(em, { template: 'deletion-notice', locale, to, data: { deletedAt: now }, idempotencyKey: `deletion-notice:${request.flowId}:${to}`.slice(0, 200) });
      }
      this.deps.audit.record(em, this.entry('registration.delete.confirm', idNumber, 'success', clientAddress));
      return 'deleted';
    });
  }

  private codeHash(idNumber: string, code: string): string {
    return keyedDigest(this.codeKey, `${idNumber}\0${code}`);
  }

  private entry(action: string, idNumber: string, outcome: 'success' | 'refused', clientAddress: string, detail: Record<string, string | boolean> = {}) {
    return { actorType: 'citizen' as const, actorId: maskIdNumber(idNumber), action, person: idNumber, outcome, clientAddress, detail };
  }
}


