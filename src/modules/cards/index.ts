import type { Orm } from '../../platform/db/index.js';
import { CardSchema } from './entities/card.js';
import { CardRegistry } from './registry.js';

export { CardRegistry, type CardRecord } from './registry.js';
export { cardNumberError, publicKeyError, CARD_STATUSES, type CardStatus } from './rules.js';
export { cardsFile } from './import.js';

export const cardEntities = [CardSchema];

/** The cards module: for now the card registry. */
export function createCardsModule(deps: { orm: Orm }) {
  return { registry: new CardRegistry(deps.orm) };
}
