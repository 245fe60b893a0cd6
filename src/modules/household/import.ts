import type { RegistryFileSpec } from '../../platform/registry-import/index.js';
import { PERSON_NAME_MAX } from './rules.js';

/**
 * persons.csv → person. The rules are the SQL twins of id-number.ts and rules.ts (migration
 * registry_rules_in_sql); village codes are checked against the village table loaded by the migrations.
 */
export const personsFile: RegistryFileSpec = {
  file: 'persons.csv',
  table: 'person',
  columns: ['id_number', 'name', 'birth_date', 'sex', 'household_number', 'village_code', 'neighborhood'],
  key: ['id_number'],
  joins: 'left join village v on v.code = s.village_code::bpchar',
  checks: [
    ['id_number', 'registry_id_number_error(s.id_number)'],
    ['name', `registry_text_error(s.name, ${PERSON_NAME_MAX})`],
    ['birth_date', 'registry_date_error(s.birth_date, $today)'],
    ['sex', `case when s.sex not in ('M', 'F') then '"' || s.sex || '" must be M or F' end`],
    ['household_number', 'registry_household_number_error(s.household_number)'],
    ['village_code', 'registry_village_code_shape_error(s.village_code)'],
    ['village_code', `case when v.code is null then s.village_code || ' is not a known village' end`],
    ['neighborhood', 'registry_neighborhood_error(s.neighborhood)'],
  ],
};

/** For files whose rows name a person by id_number: each must be in the household registry, imported before. */
export const holderInHouseholdRegistry: Pick<RegistryFileSpec, 'referencedTables' | 'references'> = {
  referencedTables: ['person'],
  references: [
    {
      where: 'not exists (select 1 from person p where p.id_number = s.id_number::bpchar)',
      reason: 'id_number: no such person in the household registry (import persons.csv first)',
    },
  ],
};
