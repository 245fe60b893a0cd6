import type { Config } from '../../config.js';
import type { AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import type { RateLimits } from '../../platform/http/index.js';
import { defineModule, type PlatformDeps, type WebModule } from '../../platform/module.js';
import type { HouseholdRegistry } from '../household/index.js';
import { CardReadRequestSchema } from './entities/card-read-request.js';
import { ReaderTerminalSchema } from './entities/reader-terminal.js';
import { environmentMessages } from './environment-messages.js';
import { agentDownloads, environmentRouter } from './environment.js';
import { cardReadMessages } from './read-messages.js';
import { CARD_READ_RETURN_PATH, cardReadRouter } from './read-routes.js';
import { ReadChallenges } from './read-challenge.js';
import { CardReadService } from './read-service.js';
import { createCardReads } from './read-session.js';
import { CardRegistry } from './registry.js';
import { CardSchema } from './entities/card.js';
import { ReaderTerminals } from './terminals.js';

export const cardReadEntities = [CardReadRequestSchema, ReaderTerminalSchema];

/** The card-read side of the cards module: its routes (citizen routes, behind the service-hours gate), the panel API, terminals. */
export function createCardReadsModule(deps: {
  config: Pick<Config, 'publicOrigin' | 'agentOrigin' | 'sessionSecret' | 'cardReadFreshMs'>;
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  rateLimits: RateLimits;
  registry: CardRegistry;
  persons: Pick<HouseholdRegistry, 'findPerson'>;
}) {
  const terminals = new ReaderTerminals(deps);
  const challenges = new ReadChallenges(deps.config.sessionSecret);
  const service = new CardReadService({ ...deps, publicOrigin: deps.config.publicOrigin, cards: deps.registry, terminals, challenges });
  const cardReads = createCardReads({
    service,
    agentOrigin: deps.config.agentOrigin,
    publicOrigin: deps.config.publicOrigin,
    clock: deps.clock,
    freshMs: deps.config.cardReadFreshMs,
  });
  const citizenRouter = cardReadRouter({ service, cardReads, rateLimits: deps.rateLimits });
  citizenRouter.use(environmentRouter({ cardReads, registry: deps.registry, downloads: agentDownloads({ publicOrigin: deps.config.publicOrigin }) }));
  const web: WebModule = {
    name: 'cards',
    citizenRouter,
    messages: { 'zh-TW': { ...cardReadMessages['zh-TW'], ...environmentMessages['zh-TW'] }, en: { ...cardReadMessages.en, ...environmentMessages.en } },
    csrfExempt: [CARD_READ_RETURN_PATH],
  };
  return { web, cardReads, terminals, service };
}

/** The cards module's definition: the card registry and card reads; it checks card holders in the household registry. */
export const cardsModule = defineModule({
  name: 'cards',
  entities: [CardSchema, ...cardReadEntities],
  messages: { 'zh-TW': { ...cardReadMessages['zh-TW'], ...environmentMessages['zh-TW'] }, en: { ...cardReadMessages.en, ...environmentMessages.en } },
  cardReadPurposes: ['env-check'],
  create(deps: PlatformDeps & { modules: { household: { registry: Pick<HouseholdRegistry, 'findPerson'> } } }) {
    const registry = new CardRegistry(deps.orm);
    const { web, cardReads, terminals, service } = createCardReadsModule({ ...deps, registry, persons: deps.modules.household.registry });
    return { web, api: { registry, cardReads, terminals, service } };
  },
});
