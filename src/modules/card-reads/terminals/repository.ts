import type { EntityManager } from '@mikro-orm/core';
import { ReaderTerminalSchema, type ReaderTerminal } from '../entities/reader-terminal.js';

/** Queries of enrolled reader terminals. A revoke is conditional on not being revoked, so it is said once. */
export const readerTerminals = {
  find(em: EntityManager, terminalId: string): Promise<ReaderTerminal | null> {
    return em.findOne(ReaderTerminalSchema, { terminalId });
  },

  /** Every terminal ever enrolled, the newest first (revoked ones stay: their ids cannot be enrolled again). */
  list(em: EntityManager): Promise<ReaderTerminal[]> {
    return em.find(ReaderTerminalSchema, {}, { orderBy: { enrolledAt: 'desc', terminalId: 'asc' }, disableIdentityMap: true });
  },

  insert(em: EntityManager, row: Omit<ReaderTerminal, 'revokedAt'>): void {
    em.create(ReaderTerminalSchema, { ...row, revokedAt: null });
  },

  async revoke(em: EntityManager, terminalId: string, at: Date): Promise<boolean> {
    return (await em.nativeUpdate(ReaderTerminalSchema, { terminalId, revokedAt: null }, { revokedAt: at })) === 1;
  },
};
