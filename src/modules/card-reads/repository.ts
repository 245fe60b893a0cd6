import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { CardReadRequestSchema, type CardReadRequest, type CardReadState } from './entities/card-read-request.js';

/** Queries of card-read requests. State changes are conditional on the state read, so a replay cannot win a race. */
export const cardReadRequests = {
  find(em: EntityManager, id: string): Promise<CardReadRequest | null> {
    return em.findOne(CardReadRequestSchema, { id });
  },

  /** The answer's row; false when one exists already (the request's id makes every answer single use). */
  async insertOnce(em: EntityManager, row: Omit<CardReadRequest, 'failure' | 'card' | 'verifiedAt' | 'terminalId'> & Partial<CardReadRequest>): Promise<boolean> {
    const inserted = await (em as SqlEntityManager)
      .createQueryBuilder(CardReadRequestSchema)
      .insert({ failure: null, card: null, verifiedAt: null, terminalId: null, ...row })
      .onConflict('id')
      .ignore()
      .execute('run');
    return inserted.affectedRows === 1;
  },

  deleteExpiredBefore(em: EntityManager, before: Date): Promise<number> {
    return em.nativeDelete(CardReadRequestSchema, { expiresAt: { $lt: before } });
  },

  async markFailed(em: EntityManager, id: string, from: CardReadState, failure: string): Promise<boolean> {
    return (await em.nativeUpdate(CardReadRequestSchema, { id, state: from }, { state: 'failed', failure })) === 1;
  },

  async markClaimed(em: EntityManager, id: string): Promise<boolean> {
    return (await em.nativeUpdate(CardReadRequestSchema, { id, state: 'verified' }, { state: 'claimed' })) === 1;
  },
};
