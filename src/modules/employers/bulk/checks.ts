import { isValidIdNumber, type PersonRecord } from '../../household/index.js';
import type { CardRecord } from '../../cards/index.js';
import { emailAddress, mobileNumber, type RegistrationState } from '../../registration/index.js';
import { parseBirthDate, type BulkRow } from './file.js';

/** Why a row is rejected, in the order the checks run (the first problem is the one reported). */
export const BULK_REASONS = ['id_number', 'duplicate', 'name', 'birth_date', 'email', 'mobile', 'not_insured', 'mismatch', 'no_card', 'registered', 'pending'] as const;
export type BulkReason = (typeof BULK_REASONS)[number];

/** What one batch's rows are checked against, looked up once for the whole batch. */
export interface BatchFacts {
  insured: ReadonlySet<string>;
  persons: ReadonlyMap<string, PersonRecord>;
  cards: ReadonlyMap<string, CardRecord>;
  states: ReadonlyMap<string, RegistrationState>;
}

/** A row that passed: who to register, with which card and contacts. */
export interface Candidate {
  line: number;
  idNumber: string;
  cardNumber: string;
  email: string;
  mobile: string | null;
}

export const normalisedId = (row: BulkRow): string => row.idNumber.trim().toUpperCase();

/**
 * One row's first problem, or the person to register. `seen` holds the ID numbers of earlier rows of the file (this
 * row's is added), so the second of two rows for one person is the duplicate.
 */
export function checkRow(row: BulkRow, facts: BatchFacts, seen: { has(id: string): boolean; add(id: string): unknown }): BulkReason | Candidate {
  const idNumber = normalisedId(row);
  if (!isValidIdNumber(idNumber)) return 'id_number';
  if (seen.has(idNumber)) return 'duplicate';
  seen.add(idNumber);
  if (!row.name.trim()) return 'name';
  const birthDate = parseBirthDate(row.birthDate);
  if (!birthDate) return 'birth_date';
  const email = emailAddress.safeParse(row.email);
  if (!email.success) return 'email';
  const mobile = row.mobile.trim();
  if (mobile && !mobileNumber.safeParse(mobile).success) return 'mobile';
  if (!facts.insured.has(idNumber)) return 'not_insured';
  const person = facts.persons.get(idNumber);
  if (!person || person.birthDate !== birthDate || person.name !== row.name.trim()) return 'mismatch';
  const card = facts.cards.get(idNumber);
  if (!card) return 'no_card';
  const state = facts.states.get(idNumber);
  if (state === 'active' || state === 'suspended') return 'registered';
  if (state === 'pending') return 'pending';
  return { line: row.line, idNumber, cardNumber: card.cardNumber, email: email.data, mobile: mobile || null };
}

/** The IDs of a batch worth looking up (well-formed ones). */
export function lookupIds(rows: readonly BulkRow[]): string[] {
  return [...new Set(rows.map(normalisedId).filter(isValidIdNumber))];
}
