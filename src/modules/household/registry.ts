import type { Orm } from '../../platform/db/index.js';
import { PersonSchema } from './entities/person.js';

/** What the household registry (戶政) says about a person. */
export interface PersonRecord {
  idNumber: string;
  name: string;
  /** YYYY-MM-DD. */
  birthDate: string;
  sex: 'M' | 'F';
  householdNumber: string;
  villageCode: string;
  neighborhood: number;
}

export interface HouseholdFacts {
  idNumber: string;
  householdNumber: string;
  villageCode: string;
  neighborhood: number;
}

/** `unavailable`: the registry could not answer; the caller says "try later" and saves nothing. */
export type HouseholdCheckResult = 'match' | 'mismatch' | 'unavailable';

/** The registry could not be reached or failed to answer. */
export class RegistryUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the household registry is unavailable', { cause });
    this.name = 'RegistryUnavailableError';
  }
}

/**
 * The household registry as the system sees it. The real service checks 戶政 in real time; the built-in
 * implementation reads the imported `person` table, and a live service can replace it behind this interface.
 */
export interface HouseholdRegistry {
  /** Whether the household number, village and neighbourhood are those registered for this person. */
  check(facts: HouseholdFacts): Promise<HouseholdCheckResult>;
  /** The person's registry record, or null when there is none. Throws RegistryUnavailableError. */
  findPerson(idNumber: string): Promise<PersonRecord | null>;
}

/** The built-in registry: the imported tables. */
export class TableHouseholdRegistry implements HouseholdRegistry {
  constructor(private readonly orm: Orm) {}

  async check(facts: HouseholdFacts): Promise<HouseholdCheckResult> {
    let person: PersonRecord | null;
    try {
      person = await this.findPerson(facts.idNumber);
    } catch {
      return 'unavailable';
    }
    if (!person) return 'mismatch';
    const same =
      person.householdNumber === facts.householdNumber.trim().toUpperCase() &&
      person.villageCode === facts.villageCode.trim() &&
      person.neighborhood === facts.neighborhood;
    return same ? 'match' : 'mismatch';
  }

  async findPerson(idNumber: string): Promise<PersonRecord | null> {
    try {
      const p = await this.orm.em.fork().findOne(PersonSchema, { idNumber: idNumber.trim().toUpperCase() });
      return p && {
        idNumber: p.idNumber,
        name: p.name,
        birthDate: p.birthDate,
        sex: p.sex,
        householdNumber: p.householdNumber,
        villageCode: p.village,
        neighborhood: p.neighborhood,
      };
    } catch (err) {
      throw new RegistryUnavailableError(err);
    }
  }
}
