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

// Card reads (READER-AGENT.md): requests bound to the session, the agent's signed answer, the claim, the panel.
export { createCardReadsModule, cardReadEntities, cardsModule } from './read-module.js';
export { CARD_READ_PURPOSES, isCardReadPurpose, type CardReadPurpose, type CardReadFailure } from './read-rules.js';
export { type CardReads, type CardPanel, type CardPanelOptions } from './read-session.js';
export { CardReadService, type VerifiedCard } from './read-service.js';
export { ReaderTerminals, TerminalEnrolmentError, type TerminalInfo } from './terminals.js';
