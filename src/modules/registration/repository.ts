import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { CaptchaUseSchema, DeletionRequestSchema, type DeletionRequest } from './entities/deletion.js';
import { RegistrationSchema, type Registration, type RegistrationState } from './entities/registration.js';

/** A registration as applied for: the bulk upload's marks default to none. */
export type NewRegistration = Omit<Registration, 'sessionEpoch' | 'needsPassword' | 'viaUnit'> & Partial<Pick<Registration, 'needsPassword' | 'viaUnit'>>;

/** Queries of registrations. State changes are conditional on the state read, so two submits cannot both win. */
export const registrations = {
  find(em: EntityManager, idNumber: string): Promise<Registration | null> {
    return em.findOne(RegistrationSchema, { idNumber }, { disableIdentityMap: true });
  },

  /**
   * A new application: inserted, or written over a deleted registration of the same person; false when a live
   * one (pending, active, suspended) exists, e.g. the same form submitted twice at once. Over a deleted one the
   * session epoch moves on, so none of the old registration's sessions or app tokens come back to life.
   */
  async apply(em: EntityManager, row: NewRegistration): Promise<boolean> {
    const previous = await registrations.find(em, row.idNumber);
    const inserted = await (em as SqlEntityManager)
      .createQueryBuilder(RegistrationSchema)
      .insert({ needsPassword: false, viaUnit: null, ...row, sessionEpoch: previous ? previous.sessionEpoch + 1 : 0 })
      .onConflict('idNumber')
      .merge()
      .where({ state: 'deleted' })
      .execute('run');
    return inserted.affectedRows === 1;
  },

  /** The state of each of these people's registrations (no entry: never registered). One query. */
  async states(em: EntityManager, idNumbers: readonly string[]): Promise<Map<string, RegistrationState>> {
    if (!idNumbers.length) return new Map();
    const rows = await (em as SqlEntityManager).execute<{ id_number: string; state: RegistrationState }[]>(
      'select id_number, state from registration where id_number in (?)',
      [[...new Set(idNumbers)]],
    );
    return new Map(rows.map((r) => [r.id_number, r.state]));
  },

  /**
   * An employer's bulk batch in one statement: each person inserted as pending without a password, or written over
   * a deleted registration (the session epoch moves on, as in apply()); a live one is left alone. Returns the ID
   * numbers written. The ID numbers must be distinct (one row cannot be written twice in one statement).
   */
  async registerForEmployer(
    em: EntityManager,
    batch: { unitCode: string; locale: string; at: Date; people: readonly { idNumber: string; cardNumber: string; email: string; mobile: string | null }[] },
  ): Promise<string[]> {
    const { people, at } = batch;
    if (!people.length) return [];
    const rows = await (em as SqlEntityManager).execute<{ id_number: string }[]>(
      `insert into registration (id_number, card_number, state, password_hash, password_changed_at, session_epoch, email, spare_email, local_phone,
         mobile, locale, created_at, needs_password, via_unit, confirmed_at, updated_at)
       select p.id_number, p.card_number, 'pending', '', ?::timestamptz, 0, p.email, null, null, p.mobile, ?, ?::timestamptz, true, ?, null, ?::timestamptz
       from unnest(array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[]) as p(id_number, card_number, email, mobile)
       on conflict (id_number) do update set card_number = excluded.card_number, state = excluded.state, password_hash = excluded.password_hash,
         password_changed_at = excluded.password_changed_at, session_epoch = registration.session_epoch + 1, email = excluded.email,
         spare_email = null, local_phone = null, mobile = excluded.mobile, locale = excluded.locale, created_at = excluded.created_at,
         needs_password = true, via_unit = excluded.via_unit, confirmed_at = null, updated_at = excluded.updated_at
       where registration.state = 'deleted'
       returning id_number`,
      [
        at,
        batch.locale,
        at,
        batch.unitCode,
        at,
        people.map((p) => p.idNumber),
        people.map((p) => p.cardNumber),
        people.map((p) => p.email),
        people.map((p) => p.mobile),
      ],
    );
    return rows.map((r) => r.id_number);
  },

  async setState(em: EntityManager, idNumber: string, from: RegistrationState, to: RegistrationState, at: Date, extra: Partial<Registration> = {}): Promise<boolean> {
    return (await em.nativeUpdate(RegistrationSchema, { idNumber, state: from }, { state: to, updatedAt: at, ...extra })) === 1;
  },

  /** A new password ends every other session: the epoch moves on. Returns the new epoch, or null with no such registration. */
  async setPassword(em: EntityManager, idNumber: string, passwordHash: string, at: Date): Promise<number | null> {
    // em.execute, not getConnection().execute: the update must be in the caller's transaction (it may hold the row).
    const rows = await (em as SqlEntityManager).execute<{ session_epoch: number }[]>(
      'update registration set password_hash = ?, password_changed_at = ?, needs_password = false, session_epoch = session_epoch + 1, updated_at = ? where id_number = ? returning session_epoch',
      [passwordHash, at, at, idNumber],
    );
    return rows[0]?.session_epoch ?? null;
  },

  async update(em: EntityManager, idNumber: string, changes: Partial<Registration>): Promise<boolean> {
    return (await em.nativeUpdate(RegistrationSchema, { idNumber }, changes)) === 1;
  },

  /** 註冊停用 at the counter: suspended and every session and app token ended in one conditional update. */
  async suspend(em: EntityManager, idNumber: string, at: Date): Promise<boolean> {
    const result = await (em as SqlEntityManager).execute<{ affectedRows: number }>(
      `update registration set state = 'suspended', session_epoch = session_epoch + 1, updated_at = ? where id_number = ? and state = 'active'`,
      [at, idNumber],
      'run',
    );
    return result.affectedRows === 1;
  },

  /**
   * 確認刪除註冊: deleted and every session ended in one conditional update (pending or active only, so of two
   * confirms one wins). Returns whether this call deleted it.
   */
  async markDeleted(em: EntityManager, idNumber: string, at: Date): Promise<boolean> {
    const result = await (em as SqlEntityManager).execute<{ affectedRows: number }>(
      `update registration set state = 'deleted', session_epoch = session_epoch + 1, updated_at = ? where id_number = ? and state in ('pending', 'active')`,
      [at, idNumber],
      'run',
    );
    return result.affectedRows === 1;
  },
};

/** A day past their use or expiry, captcha uses and deletion requests have nothing left to protect. */
const KEEP_MS = 24 * 60 * 60 * 1000;

/** The daily housekeeping: rows whose time has passed by more than a day. Returns how many. */
export async function deleteExpiredDeletionRows(em: EntityManager, now: Date): Promise<number> {
  const before = new Date(now.getTime() - KEEP_MS);
  const captchas = await em.nativeDelete(CaptchaUseSchema, { usedAt: { $lt: before } });
  const requests = await em.nativeDelete(DeletionRequestSchema, { expiresAt: { $lt: before } });
  return captchas + requests;
}

/** The open 刪除註冊申請 per person. Every change is conditional, so a code is checked, counted and used at most once. */
export const deletionRequests = {
  /**
   * A request from a new 檢核 replaces the person's earlier one (its code stops working); the same flow submitted
   * again changes nothing and returns false, so it sends no second mail.
   */
  async open(em: EntityManager, row: Omit<DeletionRequest, 'failedAttempts' | 'usedAt' | 'voidedAt'>): Promise<boolean> {
    const result = await (em as SqlEntityManager).execute<{ affectedRows: number }>(
      `insert into deletion_request (id_number, flow_id, code_hash, email, created_at, expires_at, failed_attempts, used_at, voided_at)
       values (?, ?, ?, ?, ?, ?, 0, null, null)
       on conflict (id_number) do update set flow_id = excluded.flow_id, code_hash = excluded.code_hash, email = excluded.email,
         created_at = excluded.created_at, expires_at = excluded.expires_at, failed_attempts = 0, used_at = null, voided_at = null
       where deletion_request.flow_id <> excluded.flow_id`,
      [row.idNumber, row.flowId, row.codeHash, row.email, row.createdAt, row.expiresAt],
      'run',
    );
    return result.affectedRows === 1;
  },

  /** The request while its code may still be tried: not used, not voided, not expired. */
  findOpen(em: EntityManager, idNumber: string, now: Date): Promise<DeletionRequest | null> {
    return em.findOne(DeletionRequestSchema, { idNumber, usedAt: null, voidedAt: null, expiresAt: { $gt: now } }, { disableIdentityMap: true });
  },

  /** Uses the code: true for exactly one of two concurrent confirms. */
  async use(em: EntityManager, idNumber: string, codeHash: string, now: Date): Promise<boolean> {
    return (await em.nativeUpdate(DeletionRequestSchema, { idNumber, codeHash, usedAt: null, voidedAt: null, expiresAt: { $gt: now } }, { usedAt: now })) === 1;
  },

  /** A wrong code: counted, and the request voided at `limit` wrong tries. */
  async countFailure(em: EntityManager, idNumber: string, limit: number, now: Date): Promise<void> {
    await (em as SqlEntityManager).execute(
      `update deletion_request set failed_attempts = failed_attempts + 1, voided_at = case when failed_attempts + 1 >= ? then ?::timestamptz else null end
       where id_number = ? and used_at is null and voided_at is null`,
      [limit, now, idNumber],
      'run',
    );
  },
};
