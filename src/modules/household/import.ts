import { isoDateError, textError } from '../../platform/registry-import/fields.js';
import type { RegistryFileSpec } from '../../platform/registry-import/engine.js';
import { idNumberError } from './id-number.js';
import { householdNumberError, neighborhoodError, PERSON_NAME_MAX, villageCodeShapeError } from './rules.js';

/** persons.csv → person. Village codes are checked against the village table loaded by the migrations. */
export const personsFile: RegistryFileSpec = {
  file: 'persons.csv',
  table: 'person',
  columns: ['id_number', 'name', 'birth_date', 'sex', 'household_number', 'village_code', 'neighborhood'],
  key: ['id_number'],
  async prepare({ client, today }) {
    // 7,748 codes: checked in memory, so the first bad row is found while streaming.
    const villages = new Set((await client.query<{ code: string }>('select code from village')).rows.map((r) => r.code));
    return ([idNumber, name, birthDate, sex, householdNumber, villageCode, neighborhood]) => {
      let why: string | undefined;
      if ((why = idNumberError(idNumber!))) return `id_number: ${why}`;
      if ((why = textError(name!, PERSON_NAME_MAX))) return `name: ${why}`;
      if ((why = isoDateError(birthDate!, today))) return `birth_date: ${why}`;
      if (sex !== 'M' && sex !== 'F') return `sex: "${sex}" must be M or F`;
      if ((why = householdNumberError(householdNumber!))) return `household_number: ${why}`;
      if ((why = villageCodeShapeError(villageCode!))) return `village_code: ${why}`;
      if (!villages.has(villageCode!)) return `village_code: ${villageCode} is not a known village`;
      if ((why = neighborhoodError(neighborhood!))) return `neighborhood: ${why}`;
      return [idNumber!, name!, birthDate!, sex, householdNumber!, villageCode!, String(Number(neighborhood))];
    };
  },
};

/** For files whose rows name a person by id_number: each must be in the household registry, imported before. */
export const holderInHouseholdRegistry: Pick<RegistryFileSpec, 'referencedTables' | 'references'> = {
  referencedTables: ['person'],
  references: [
    {
      sql: 'select line from $stage s where not exists (select 1 from person p where p.id_number = s.id_number)',
      reason: 'id_number: no such person in the household registry (import persons.csv first)',
    },
  ],
};
