import type { Orm } from '../../platform/db/index.js';
// The registry's tables are read with plain SQL here (the person entity maps them for the import and migrations).

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
  /** Many at once (a bulk upload's batch), by ID number; those not found are absent. Throws RegistryUnavailableError. */
  findPersons(idNumbers: readonly string[]): Promise<Map<string, PersonRecord>>;
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
    return (await this.findPersons([idNumber.trim().toUpperCase()])).get(idNumber.trim().toUpperCase()) ?? null;
  }

  async findPersons(idNumbers: readonly string[]): Promise<Map<string, PersonRecord>> {
    if (!idNumbers.length) return new Map();
    // Plain rows, not entities: a bulk upload asks for thousands at a time.
    let rows: { id_number: string; name: string; birth_date: string; sex: 'M' | 'F'; household_number: string; village_code: string; neighborhood: number }[];
    try {
      rows = await this.orm.em.getConnection().execute(
        `select id_number, name, to_char(birth_date, 'YYYY-MM-DD') as birth_date, sex, household_number, village_code, neighborhood from person where id_number = any(array[?]::text[])`,
        [[...idNumbers]],
      );
    } catch (err) {
      throw new RegistryUnavailableError(err);
    }
    return new Map(rows.map((p) => [p.id_number, {
      idNumber: p.id_number,
      name: p.name,
      birthDate: p.birth_date,
      sex: p.sex,
      householdNumber: p.household_number,
      villageCode: p.village_code,
      neighborhood: p.neighborhood,
    }]));
  }
}
