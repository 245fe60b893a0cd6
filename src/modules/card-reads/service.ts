import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { EntityManager } from '@mikro-orm/core';
import { maskIdNumber, type AuditEntry, type AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import { RegistryUnavailableError, type HouseholdRegistry } from '../household/index.js';
import type { ReadCard } from './entities/card-read-request.js';
import { assertionSigner, sameSecret, verifyAssertion, type AssertionPayload } from './assertion.js';
import { bindingHash, type ReadChallenges, type ReadRequest } from './challenge.js';
import { cardReadRequests } from './repository.js';
import {
  cardNameMatches,
  IAT_FUTURE_S,
  IAT_PAST_S,
  isAgentError,
  maskCardNumber,
  CARD_READ_PURPOSE,
  READ_REQUEST_KEEP_MS,
  READ_REQUEST_TTL_MS,
  type CardReadFailure,
  type CardReadPurpose,
  type CardReadRefusal,
} from './rules.js';
import type { CardRecord, CardRegistry } from '../cards/index.js';
import type { ReaderTerminals } from './terminals/service.js';

/** A claimed card as a flow's session keeps it. */
export interface VerifiedCard extends ReadCard {
  /** ISO time of the verification. */
  readAt: string;
  terminalId?: string;
}

/** What the agent's page posted back: the signed read, or the agent's error with the request's challenge. */
export type ReadAnswer = { assertion: string } | { error: string; challenge: string };

export type ReceiveResult =
  | { kind: 'verified' | 'failed'; id: string; purpose: CardReadPurpose }
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
  challenges: ReadChallenges;
  /** Every purpose the modules declared: a read for anything else is a programming error. */
  purposes: ReadonlySet<CardReadPurpose>;
  /** The staff pages' purposes: claimed only in a staff session. */
  staffPurposes: ReadonlySet<CardReadPurpose>;
  /**
   * Whether a terminal-signed read may serve this purpose from this address: only staff purposes, from
   * INTRANET_ALLOW networks; elsewhere a terminal key is an unknown key.
   */
  acceptsTerminalRead: (purpose: CardReadPurpose, clientAddress: string) => boolean;
}

type Verified = { card: ReadCard; terminalId: string | null };
type Failed = { failure: CardReadFailure; person?: string; detail?: Record<string, string> };

// A key no one holds: an unknown signer is checked against it, so it costs what a known one does.
const NOBODY_KEY = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;

/** The challenge an assertion names, read before its signature is checked only to find the request's terms. */
function namedChallenge(jws: string): string | null {
  try {
    const claims = decodeJwt(jws);
    return typeof claims.challenge === 'string' ? claims.challenge : null;
  } catch {
    return null;
  }
}

export class CardReadService {
  constructor(private readonly deps: CardReadServiceDeps) {
    for (const purpose of deps.purposes) if (!CARD_READ_PURPOSE.test(purpose)) throw new Error(`card-read purpose "${purpose}" must be a short lower-case word`);
  }

  get purposes(): ReadonlySet<CardReadPurpose> {
    return this.deps.purposes;
  }

  get staffPurposes(): ReadonlySet<CardReadPurpose> {
    return this.deps.staffPurposes;
  }

  /** The citizen pages' purposes (every declared one but the staff pages'). */
  get citizenPurposes(): ReadonlySet<CardReadPurpose> {
    return new Set([...this.deps.purposes].filter((purpose) => !this.deps.staffPurposes.has(purpose)));
  }

  /** The request a page's read form carries, sealed into its challenge: nothing is written. */
  open(input: { binding: string; purpose: CardReadPurpose; returnTo: string; expectedIdNumber?: string }): { id: string; challenge: string } {
    if (!this.deps.purposes.has(input.purpose)) throw new Error(`card-read purpose "${input.purpose}" is not declared by any module`);
    return this.deps.challenges.seal({
      purpose: input.purpose,
      returnTo: input.returnTo,
      expiresAt: new Date(this.deps.clock.now().getTime() + READ_REQUEST_TTL_MS),
      bindingHash: bindingHash(input.binding),
      expectedIdNumber: input.expectedIdNumber ?? null,
    });
  }

  /**
   * The agent's answer (no session: the cross-site POST carries no cookie). An answer to a request this server
   * sealed, unexpired, is written once as verified or failed; anything else is refused and writes nothing but audit.
   */
  async receive(id: string, answer: ReadAnswer, clientAddress: string): Promise<ReceiveResult> {
    const em = this.deps.orm.em.fork();
    const now = this.deps.clock.now();
    const refuse = async (refusal: CardReadRefusal, returnTo?: string, purpose?: string): Promise<ReceiveResult> => {
      await this.audit(em, { action: 'card_read.verify', outcome: 'refused', clientAddress, detail: { purpose, reason: refusal } });
      return { kind: 'refused', refusal, returnTo };
    };
    const challenge = 'error' in answer ? answer.challenge : namedChallenge(answer.assertion);
    const request = challenge ? this.deps.challenges.open(id, challenge) : null;
    if (!request) return refuse('unknown_request');
    const { purpose, returnTo } = request;
    if (request.expiresAt <= now) return refuse('expired', returnTo, purpose);

    const result: Verified | Failed =
      'error' in answer
        ? { failure: isAgentError(answer.error) ? answer.error : 'card_unreadable' }
        : await this.check(answer.assertion, request, now, clientAddress);
    const row = {
      id,
      bindingHash: request.bindingHash,
      purpose,
      returnTo,
      expectedIdNumber: request.expectedIdNumber,
      createdAt: now,
      expiresAt: request.expiresAt,
      ...('failure' in result
        ? { state: 'failed' as const, failure: result.failure }
        : { state: 'verified' as const, card: result.card, verifiedAt: now, terminalId: result.terminalId }),
    };
    const written = await em.transactional(async (tx) => {
      if (!(await cardReadRequests.insertOnce(tx, row))) return false;
      await cardReadRequests.deleteExpiredBefore(tx, new Date(now.getTime() - READ_REQUEST_KEEP_MS));
      this.deps.audit.record(tx, this.entry(
        'failure' in result
          ? { action: 'card_read.verify', outcome: 'failure', clientAddress, person: result.person, detail: { purpose, reason: result.failure, ...result.detail } }
          : {
              action: 'card_read.verify',
              outcome: 'success',
              clientAddress,
              person: result.card.idNumber,
              detail: { purpose, card: maskCardNumber(result.card.cardNumber), terminal: result.terminalId ?? undefined },
            },
      ));
      return true;
    });
    if (!written) return refuse('replayed', returnTo, purpose);
    return { kind: 'failure' in result ? 'failed' : 'verified', id, purpose };
  }

  /** Everything about an assertion that needs no session, in the order that names the first problem. */
  private async check(jws: string, request: ReadRequest, now: Date, clientAddress: string): Promise<Verified | Failed> {
    const signer = assertionSigner(jws);
    if (!signer) return { failure: 'malformed' };
    const signerDetail: Record<string, string> =
      signer.kind === 'card' ? { card: maskCardNumber(signer.cardNumber) } : { terminal: signer.terminalId };
    // An unknown card, an unknown or refused terminal and a bad signature answer alike: no card-number oracle.
    let publicKey: string | null;
    let unknownSigner: string | undefined;
    // The signing card's record, fetched once: its key here, its status and data below.
    let signingCard: CardRecord | null = null;
    if (signer.kind === 'card') {
      signingCard = await this.deps.cards.findByNumber(signer.cardNumber);
      publicKey = signingCard?.publicKey ?? null;
      if (!publicKey) unknownSigner = 'unknown_card';
    } else {
      publicKey = await this.deps.terminals.activeKey(signer.terminalId);
      if (!publicKey) unknownSigner = 'terminal_not_enrolled';
      else if (!this.deps.acceptsTerminalRead(request.purpose, clientAddress)) unknownSigner = 'terminal_not_accepted';
    }
    const payload = await verifyAssertion(jws, unknownSigner ? NOBODY_KEY : publicKey!);
    if (unknownSigner) return { failure: 'invalid_signature', detail: { ...signerDetail, signer: unknownSigner } };
    if (typeof payload === 'string') return { failure: payload, detail: signerDetail };
    const fail = (failure: CardReadFailure): Failed => ({
      failure,
      person: payload.card.idNumber,
      detail: { ...signerDetail, card: maskCardNumber(payload.card.number) },
    });
    if (payload.req !== request.id) return fail('replayed');
    if (payload.aud !== this.deps.publicOrigin) return fail('wrong_audience');
    const nowS = Math.floor(now.getTime() / 1000);
    if (payload.iat > nowS + IAT_FUTURE_S || payload.iat < nowS - IAT_PAST_S) return fail('expired');
    if (signer.kind === 'card' && signer.cardNumber !== payload.card.number) return fail('card_mismatch');
    const mismatch = await this.registryMismatch(payload.card, signingCard ?? (await this.deps.cards.findByNumber(payload.card.number)));
    if (mismatch) return fail(mismatch);
    return {
      card: { cardNumber: payload.card.number, idNumber: payload.card.idNumber, name: payload.card.name },
      terminalId: signer.kind === 'terminal' ? signer.terminalId : null,
    };
  }

  /** The card must exist, be valid, and say what the card and household registries say. */
  private async registryMismatch(card: AssertionPayload['card'], record: CardRecord | null): Promise<CardReadFailure | undefined> {
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
   * The top-level GET that carries the browser's cookies: only the browser that asked may take the result.
   * A verified read is handed over once (or refused for another person's card); a failure is reported. A claim
   * from another browser burns the read, so the rightful one cannot then be handed what someone else tried to take.
   */
  async claim(id: string, binding: string, clientAddress: string, scope: 'citizen' | 'staff' = 'citizen'): Promise<ClaimResult> {
    const em = this.deps.orm.em.fork();
    const now = this.deps.clock.now();
    const request = await cardReadRequests.find(em, id);
    const refuse = async (refusal: CardReadRefusal, returnTo?: string): Promise<ClaimResult> => {
      await this.audit(em, { action: 'card_read.claim', outcome: 'refused', clientAddress, detail: { purpose: request?.purpose, reason: refusal, scope } });
      return { kind: 'refused', refusal, returnTo };
    };
    if (!request) return refuse('not_read');
    // A staff page's read goes only into a staff session, and a citizen page's only into a citizen's.
    if (this.deps.staffPurposes.has(request.purpose) !== (scope === 'staff')) return refuse('unknown_request');
    if (!sameSecret(request.bindingHash, bindingHash(binding))) {
      if (request.state === 'verified') await cardReadRequests.markFailed(em, id, 'verified', 'claimed_elsewhere');
      return refuse('other_session');
    }
    const purpose = request.purpose as CardReadPurpose;
    const { returnTo } = request;
    if (request.state === 'claimed') return { kind: 'used', returnTo };
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
          person: card.idNumber,
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
