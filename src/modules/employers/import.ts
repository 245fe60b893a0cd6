import { textError } from '../../platform/registry-import/fields.js';
import type { RegistryFileSpec } from '../../platform/registry-import/engine.js';
import { holderInHouseholdRegistry, idNumberError } from '../household/index.js';
import { UNIT_NAME_MAX, unitCodeError } from './rules.js';

/** enrollments.csv → enrollment. The insured person must be in the household registry. */
export const enrollmentsFile: RegistryFileSpec = {
  file: 'enrollments.csv',
  table: 'enrollment',
  columns: ['id_number', 'unit_code', 'unit_name', 'insured'],
  key: ['id_number', 'unit_code'],
  async prepare() {
    return ([idNumber, unitCode, unitName, insured]) => {
      let why: string | undefined;
      if ((why = idNumberError(idNumber!))) return `id_number: ${why}`;
      if ((why = unitCodeError(unitCode!))) return `unit_code: ${why}`;
      if ((why = textError(unitName!, UNIT_NAME_MAX))) return `unit_name: ${why}`;
      if (insured !== '1' && insured !== '0') return `insured: "${insured}" must be 1 or 0`;
      return [idNumber!, unitCode!, unitName!, insured === '1' ? 't' : 'f'];
    };
  },
  ...holderInHouseholdRegistry,
};
