import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { CardSchema } from './entities/card.js';
import { CardRegistry } from './registry.js';

export { CardRegistry, type CardRecord } from './registry.js';
export { cardNumberError, publicKeyError, CARD_STATUSES, type CardStatus } from './rules.js';
export { cardsFile } from './import.js';

export const cardEntities = [CardSchema];

/** The cards module: the card registry (imported from cards.csv), which card reads and registrations consult. */
export const cardsModule = defineModule({
  name: 'cards',
  entities: cardEntities,
  create(deps: Pick<PlatformDeps, 'orm'>) {
    return { api: { registry: new CardRegistry(deps.orm) } };
  },
});
