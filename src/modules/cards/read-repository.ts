import type { EntityManager } from '@mikro-orm/core';
import { CardReadRequestSchema, type CardReadRequest, type CardReadState, type ReadCard } from './entities/card-read-request.js';
import { ReaderTerminalSchema, type ReaderTerminal } from './entities/reader-terminal.js';

/** Queries of card-read requests. State changes are conditional on the state read, so a replay cannot win a race. */
export const cardReadRequests = {
  find(em: EntityManager, id: string): Promise<CardReadRequest | null> {
    return em.findOne(CardReadRequestSchema, { id });
  },

  findReusable(
    em: EntityManager,
    q: { sessionHash: string; purpose: string; returnTo: string; expectedIdNumber: string | null; validAfter: Date },
  ): Promise<CardReadRequest | null> {
    return em.findOne(
      CardReadRequestSchema,
      { sessionHash: q.sessionHash, purpose: q.purpose, returnTo: q.returnTo, expectedIdNumber: q.expectedIdNumber, state: 'pending', expiresAt: { $gt: q.validAfter } },
      { orderBy: { expiresAt: 'desc' } },
    );
  },

  insert(em: EntityManager, row: Omit<CardReadRequest, 'failure' | 'card' | 'verifiedAt' | 'terminalId'>): void {
    em.create(CardReadRequestSchema, { ...row, failure: null, card: null, verifiedAt: null, terminalId: null });
  },

  deleteExpiredBefore(em: EntityManager, before: Date): Promise<number> {
    return em.nativeDelete(CardReadRequestSchema, { expiresAt: { $lt: before } });
  },

  /** pending → verified, only while unexpired; false when someone else got there first. */
  async markVerified(em: EntityManager, id: string, now: Date, card: ReadCard, terminalId: string | null): Promise<boolean> {
    const n = await em.nativeUpdate(
      CardReadRequestSchema,
      { id, state: 'pending', expiresAt: { $gt: now } },
      { state: 'verified', card, verifiedAt: now, terminalId },
    );
    return n === 1;
  },

  async markFailed(em: EntityManager, id: string, from: CardReadState, failure: string): Promise<boolean> {
    return (await em.nativeUpdate(CardReadRequestSchema, { id, state: from }, { state: 'failed', failure })) === 1;
  },

  async markClaimed(em: EntityManager, id: string): Promise<boolean> {
    return (await em.nativeUpdate(CardReadRequestSchema, { id, state: 'verified' }, { state: 'claimed' })) === 1;
  },
};

export const readerTerminals = {
  find(em: EntityManager, terminalId: string): Promise<ReaderTerminal | null> {
    return em.findOne(ReaderTerminalSchema, { terminalId });
  },

  insert(em: EntityManager, row: Omit<ReaderTerminal, 'revokedAt'>): void {
    em.create(ReaderTerminalSchema, { ...row, revokedAt: null });
  },

  async revoke(em: EntityManager, terminalId: string, at: Date): Promise<boolean> {
    return (await em.nativeUpdate(ReaderTerminalSchema, { terminalId, revokedAt: null }, { revokedAt: at })) === 1;
  },
};
