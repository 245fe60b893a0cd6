import { isoDateError } from '../../platform/registry-import/fields.js';
import type { RegistryFileSpec } from '../../platform/registry-import/engine.js';
import { holderInHouseholdRegistry, idNumberError } from '../household/index.js';
import { cardNumberError, publicKeyError } from './rules.js';

/** cards.csv → card. The holder must be a person of the household registry (imported before). */
export const cardsFile: RegistryFileSpec = {
  file: 'cards.csv',
  table: 'card',
  columns: ['card_number', 'id_number', 'issued_on', 'status', 'public_key'],
  key: ['card_number'],
  async prepare({ today }) {
    return ([cardNumber, idNumber, issuedOn, status, publicKey]) => {
      let why: string | undefined;
      if ((why = cardNumberError(cardNumber!))) return `card_number: ${why}`;
      if ((why = idNumberError(idNumber!))) return `id_number: ${why}`;
      if ((why = isoDateError(issuedOn!, today))) return `issued_on: ${why}`;
      if (status !== 'valid' && status !== 'void') return `status: "${status}" must be valid or void`;
      if (publicKey !== '' && (why = publicKeyError(publicKey!))) return `public_key: ${why}`;
      return [cardNumber!, idNumber!, issuedOn!, status, publicKey === '' ? null : publicKey!];
    };
  },
  ...holderInHouseholdRegistry,
};
