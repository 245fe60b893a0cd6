import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { RegistrationSchema, type Registration, type RegistrationState } from './entities/registration.js';

/** Queries of registrations. State changes are conditional on the state read, so two submits cannot both win. */
export const registrations = {
  find(em: EntityManager, idNumber: string): Promise<Registration | null> {
    return em.findOne(RegistrationSchema, { idNumber }, { disableIdentityMap: true });
  },

  /**
   * A new application: inserted, or written over a deleted registration of the same person; false when a live
   * one (pending, active, suspended) exists, e.g. the same form submitted twice at once.
   */
  async apply(em: EntityManager, row: Registration): Promise<boolean> {
    const inserted = await (em as SqlEntityManager)
      .createQueryBuilder(RegistrationSchema)
      .insert(row)
      .onConflict('idNumber')
      .merge()
      .where({ state: 'deleted' })
      .execute('run');
    return inserted.affectedRows === 1;
  },

  async setState(em: EntityManager, idNumber: string, from: RegistrationState, to: RegistrationState, at: Date, extra: Partial<Registration> = {}): Promise<boolean> {
    return (await em.nativeUpdate(RegistrationSchema, { idNumber, state: from }, { state: to, updatedAt: at, ...extra })) === 1;
  },

  /** A new password ends every other session: the epoch moves on. Returns the new epoch, or null with no such registration. */
  async setPassword(em: EntityManager, idNumber: string, passwordHash: string, at: Date): Promise<number | null> {
    const rows = await (em as SqlEntityManager).getConnection().execute<{ session_epoch: number }[]>(
      'update registration set password_hash = ?, password_changed_at = ?, session_epoch = session_epoch + 1, updated_at = ? where id_number = ? returning session_epoch',
      [passwordHash, at, at, idNumber],
    );
    return rows[0]?.session_epoch ?? null;
  },

  async update(em: EntityManager, idNumber: string, changes: Partial<Registration>): Promise<boolean> {
    return (await em.nativeUpdate(RegistrationSchema, { idNumber }, changes)) === 1;
  },
};
