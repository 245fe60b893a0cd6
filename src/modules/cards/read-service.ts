import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditEntry, type AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import { RegistryUnavailableError, type HouseholdRegistry } from '../household/index.js';
import type { ReadCard } from './entities/card-read-request.js';
import { assertionSigner, sameSecret, verifyAssertion, type AssertionPayload } from './read-assertion.js';
import { cardReadRequests } from './read-repository.js';
import {
  cardNameMatches,
  IAT_FUTURE_S,
  IAT_PAST_S,
  isAgentError,
  maskCardNumber,
  READ_REQUEST_KEEP_MS,
  READ_REQUEST_REUSE_MARGIN_MS,
  READ_REQUEST_TTL_MS,
  type CardReadFailure,
  type CardReadPurpose,
  type CardReadRefusal,
} from './read-rules.js';
import type { CardRegistry } from './registry.js';
import type { ReaderTerminals } from './terminals.js';

/** A claimed card as a flow's session keeps it. */
export interface VerifiedCard extends ReadCard {
  /** ISO time of the verification. */
  readAt: string;
  terminalId?: string;
}

/** What the agent's page posted back. */
export type ReadAnswer = { assertion: string } | { error: string };

export type ReceiveResult =
  | { kind: 'verified' | 'failed'; id: string }
  | { kind: 'refused'; refusal: CardReadRefusal; returnTo?: string };

export type ClaimResult =
  | { kind: 'card'; purpose: CardReadPurpose; returnTo: string; card: VerifiedCard }
  | { kind: 'failure'; purpose: CardReadPurpose; returnTo: string; failure: CardReadFailure }
  | { kind: 'used'; returnTo: string }
  | { kind: 'refused'; refusal: CardReadRefusal; returnTo?: string };

export interface CardReadServiceDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  /** PUBLIC_ORIGIN: the audience every assertion must name. */
  publicOrigin: string;
  cards: CardRegistry;
  persons: Pick<HouseholdRegistry, 'findPerson'>;
  terminals: ReaderTerminals;
}

/** The binding between a request and a browser session, stored instead of the session id. */
export const sessionHash = (sessionId: string): string => createHash('sha256').update(sessionId, 'utf8').digest('hex');
const random = (bytes: number) => randomBytes(bytes).toString('base64url');

type Verified = { card: ReadCard; terminalId: string | null };
type Failed = { failure: CardReadFailure; subject?: string; detail?: Record<string, string> };

export class CardReadService {
  constructor(private readonly deps: CardReadServiceDeps) {}

  /**
   * The request a page's read form carries: like a CSRF nonce, the session's unexpired pending request
   * for the same purpose and page is reused; otherwise a new one. Long-expired rows go on the way.
   */
  async open(input: { sessionId: string; purpose: CardReadPurpose; returnTo: string; expectedIdNumber?: string }): Promise<{ id: string; challenge: string }> {
    const now = this.deps.clock.now();
    const query = {
      sessionHash: sessionHash(input.sessionId),
      purpose: input.purpose,
      returnTo: input.returnTo,
      expectedIdNumber: input.expectedIdNumber ?? null,
    };
    return this.deps.orm.em.fork().transactional(async (em) => {
      const reusable = await cardReadRequests.findReusable(em, { ...query, validAfter: new Date(now.getTime() + READ_REQUEST_REUSE_MARGIN_MS) });
      if (reusable) return { id: reusable.id, challenge: reusable.challenge };
      await cardReadRequests.deleteExpiredBefore(em, new Date(now.getTime() - READ_REQUEST_KEEP_MS));
      const expiresAt = new Date(now.getTime() + READ_REQUEST_TTL_MS);
      const row = { ...query, id: random(24), challenge: random(32), createdAt: now, expiresAt, state: 'pending' as const };
      cardReadRequests.insert(em, row);
      return { id: row.id, challenge: row.challenge };
    });
  }

  /**
   * The agent's answer (no session: the cross-site POST carries no cookie). A pending, unexpired request
   * becomes verified or failed; anything else is refused and left as it is.
   */
  async receive(id: string, answer: ReadAnswer, clientAddress: string): Promise<ReceiveResult> {
    const em = this.deps.orm.em.fork();
    const now = this.deps.clock.now();
    const request = await cardReadRequests.find(em, id);
    const refuse = async (refusal: CardReadRefusal, returnTo?: string, purpose?: string): Promise<ReceiveResult> => {
      await this.audit(em, { action: 'card_read.verify', outcome: 'refused', clientAddress, detail: { purpose, reason: refusal } });
      return { kind: 'refused', refusal, returnTo };
    };
    if (!request) return refuse('unknown_request');
    if (request.state !== 'pending') return refuse('replayed', request.returnTo, request.purpose);
    if (request.expiresAt <= now) return refuse('expired', request.returnTo, request.purpose);

    const result: Verified | Failed =
      'error' in answer ? { failure: isAgentError(answer.error) ? answer.error : 'card_unreadable' } : await this.check(answer.assertion, request, now);
    const purpose = request.purpose;
    if ('failure' in result) {
      const failed = await em.transactional(async (tx) => {
        if (!(await cardReadRequests.markFailed(tx, id, 'pending', result.failure))) return false;
        this.deps.audit.record(tx, this.entry({
          action: 'card_read.verify',
          outcome: 'failure',
          clientAddress,
          subject: result.subject,
          detail: { purpose, reason: result.failure, ...result.detail },
        }));
        return true;
      });
      return failed ? { kind: 'failed', id } : refuse('replayed', request.returnTo, purpose);
    }
    const { card, terminalId } = result;
    const verified = await em.transactional(async (tx) => {
      if (!(await cardReadRequests.markVerified(tx, id, now, card, terminalId))) return false;
      this.deps.audit.record(tx, this.entry({
        action: 'card_read.verify',
        outcome: 'success',
        clientAddress,
        subject: maskIdNumber(card.idNumber),
        detail: { purpose, card: maskCardNumber(card.cardNumber), terminal: terminalId ?? undefined },
      }));
      return true;
    });
    return verified ? { kind: 'verified', id } : refuse('replayed', request.returnTo, purpose);
  }

  /** Everything about an assertion that needs no session, in the order that names the first problem. */
  private async check(
    jws: string,
    request: { id: string; challenge: string },
    now: Date,
  ): Promise<Verified | Failed> {
    const signer = assertionSigner(jws);
    if (!signer) return { failure: 'malformed' };
    const signerDetail: Record<string, string> =
      signer.kind === 'card' ? { card: maskCardNumber(signer.cardNumber) } : { terminal: signer.terminalId };
    let publicKey: string | null;
    if (signer.kind === 'card') {
      publicKey = (await this.deps.cards.findByNumber(signer.cardNumber))?.publicKey ?? null;
      if (!publicKey) return { failure: 'unknown_card', detail: signerDetail };
    } else {
      publicKey = await this.deps.terminals.activeKey(signer.terminalId);
      if (!publicKey) return { failure: 'terminal_not_enrolled', detail: signerDetail };
    }
    const payload = await verifyAssertion(jws, publicKey);
    if (typeof payload === 'string') return { failure: payload, detail: signerDetail };
    const fail = (failure: CardReadFailure): Failed => ({
      failure,
      subject: maskIdNumber(payload.card.idNumber),
      detail: { ...signerDetail, card: maskCardNumber(payload.card.number) },
    });
    if (payload.req !== request.id || !sameSecret(payload.challenge, request.challenge)) return fail('replayed');
    if (payload.aud !== this.deps.publicOrigin) return fail('wrong_audience');
    const nowS = Math.floor(now.getTime() / 1000);
    if (payload.iat > nowS + IAT_FUTURE_S || payload.iat < nowS - IAT_PAST_S) return fail('expired');
    if (signer.kind === 'card' && signer.cardNumber !== payload.card.number) return fail('card_mismatch');
    const mismatch = await this.registryMismatch(payload.card);
    if (mismatch) return fail(mismatch);
    return {
      card: { cardNumber: payload.card.number, idNumber: payload.card.idNumber, name: payload.card.name },
      terminalId: signer.kind === 'terminal' ? signer.terminalId : null,
    };
  }

  /** The card must exist, be valid, and say what the card and household registries say. */
  private async registryMismatch(card: AssertionPayload['card']): Promise<CardReadFailure | undefined> {
    const record = await this.deps.cards.findByNumber(card.number);
    if (!record) return 'unknown_card';
    if (record.status !== 'valid') return 'void_card';
    if (record.idNumber !== card.idNumber || record.issuedOn !== card.issuedOn) return 'card_mismatch';
    let person;
    try {
      person = await this.deps.persons.findPerson(card.idNumber);
    } catch (err) {
      if (err instanceof RegistryUnavailableError) return 'registry_unavailable';
      throw err;
    }
    if (!person || person.birthDate !== card.birthDate || person.sex !== card.sex || !cardNameMatches(card.name, person.name)) return 'card_mismatch';
    return undefined;
  }

  /**
   * The top-level GET that carries the session cookie: only the session that asked may take the result.
   * A verified read is handed over once (or refused for another person's card); a failure is reported.
   */
  async claim(id: string, sessionId: string, clientAddress: string): Promise<ClaimResult> {
    const em = this.deps.orm.em.fork();
    const now = this.deps.clock.now();
    const request = await cardReadRequests.find(em, id);
    const refuse = async (refusal: CardReadRefusal, returnTo?: string): Promise<ClaimResult> => {
      await this.audit(em, { action: 'card_read.claim', outcome: 'refused', clientAddress, detail: { purpose: request?.purpose, reason: refusal } });
      return { kind: 'refused', refusal, returnTo };
    };
    if (!request) return refuse('unknown_request');
    if (!sameSecret(request.sessionHash, sessionHash(sessionId))) return refuse('other_session');
    const purpose = request.purpose as CardReadPurpose;
    const { returnTo } = request;
    if (request.state === 'claimed') return { kind: 'used', returnTo };
    if (request.state === 'pending') return refuse(request.expiresAt <= now ? 'expired' : 'not_read', returnTo);
    if (request.state === 'failed') return { kind: 'failure', purpose, returnTo, failure: request.failure as CardReadFailure };
    if (request.expiresAt <= now) return refuse('expired', returnTo);

    const card = request.card!;
    const otherPerson = request.expectedIdNumber !== null && request.expectedIdNumber !== card.idNumber;
    const done = await em.transactional(async (tx) => {
      const changed = otherPerson ? await cardReadRequests.markFailed(tx, id, 'verified', 'other_person') : await cardReadRequests.markClaimed(tx, id);
      if (changed) {
        this.deps.audit.record(tx, this.entry({
          action: 'card_read.claim',
          outcome: otherPerson ? 'refused' : 'success',
          clientAddress,
          subject: maskIdNumber(card.idNumber),
          detail: { purpose, card: maskCardNumber(card.cardNumber), reason: otherPerson ? 'other_person' : undefined },
        }));
      }
      return changed;
    });
    if (!done) return { kind: 'used', returnTo };
    if (otherPerson) return { kind: 'failure', purpose, returnTo, failure: 'other_person' };
    const verified: VerifiedCard = { ...card, readAt: (request.verifiedAt ?? now).toISOString(), ...(request.terminalId ? { terminalId: request.terminalId } : {}) };
    return { kind: 'card', purpose, returnTo, card: verified };
  }

  private entry(e: Omit<AuditEntry, 'actorType'>): AuditEntry {
    return { actorType: 'anonymous', ...e };
  }

  private audit(em: EntityManager, e: Omit<AuditEntry, 'actorType'>): Promise<void> {
    return this.deps.audit.recordNow(em, this.entry(e));
  }
}
