import type { RegistryFileSpec } from '../../platform/registry-import/index.js';
import { holderInHouseholdRegistry } from '../household/index.js';
import { UNIT_NAME_MAX } from './rules.js';

/** enrollments.csv → enrollment, checked by the SQL twins of rules.ts. The insured person must be in the household registry. */
export const enrollmentsFile: RegistryFileSpec = {
  file: 'enrollments.csv',
  table: 'enrollment',
  columns: ['id_number', 'unit_code', 'unit_name', 'insured'],
  key: ['id_number', 'unit_code'],
  checks: [
    ['id_number', 'registry_id_number_error(s.id_number)'],
    ['unit_code', 'registry_unit_code_error(s.unit_code)'],
    ['unit_name', `registry_text_error(s.unit_name, ${UNIT_NAME_MAX})`],
    ['insured', `case when s.insured not in ('1', '0') then '"' || s.insured || '" must be 1 or 0' end`],
  ],
  ...holderInHouseholdRegistry,
};
