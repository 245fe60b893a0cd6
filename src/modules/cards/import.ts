import type { RegistryFileSpec } from '../../platform/registry-import/index.js';
import { holderInHouseholdRegistry } from '../household/index.js';

/** cards.csv → card, checked by the SQL twins of rules.ts. The holder must be a person of the household registry (imported before). */
export const cardsFile: RegistryFileSpec = {
  file: 'cards.csv',
  table: 'card',
  columns: ['card_number', 'id_number', 'issued_on', 'status', 'public_key'],
  key: ['card_number'],
  checks: [
    ['card_number', 'registry_card_number_error(s.card_number)'],
    ['id_number', 'registry_id_number_error(s.id_number)'],
    ['issued_on', 'registry_date_error(s.issued_on, $today)'],
    ['status', `case when s.status not in ('valid', 'void') then '"' || s.status || '" must be valid or void' end`],
    ['public_key', `case when s.public_key <> '' then registry_public_key_error(s.public_key) end`],
  ],
  values: { public_key: `nullif(s.public_key, '')` },
  ...holderInHouseholdRegistry,
};
