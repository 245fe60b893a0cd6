import type { Config } from '../../config.js';
import type { AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import { addressList, type AddressList, type RateLimits } from '../../platform/http/index.js';
import { defineModule, type PlatformDeps, type WebModule } from '../../platform/module.js';
import type { CardRegistry } from '../cards/index.js';
import type { HouseholdRegistry } from '../household/index.js';
import { ReadChallenges } from './challenge.js';
import { CardReadRequestSchema } from './entities/card-read-request.js';
import { ReaderTerminalSchema } from './entities/reader-terminal.js';
import { environmentMessages } from './environment/messages.js';
import { agentDownloads, environmentRouter } from './environment/routes.js';
import { cardReadMessages } from './messages.js';
import { CARD_READ_RETURN_PATH, cardReadAnswerRouter, cardReadRouter, staffCardReadRouter } from './routes.js';
import { CardReadService } from './service.js';
import { createCardReads } from './session.js';
import { ReaderTerminals } from './terminals/service.js';

// Card reads (READER-AGENT.md): requests sealed into the page, the agent's signed answer, the claim, the panel;
// the counter PCs that may sign; the 檢測健保卡認證 page and the agent downloads.
export { type CardReadPurpose, type CardReadFailure } from './rules.js';
export { type CardReads, type CardPanel, type CardPanelOptions } from './session.js';
export { CardReadService, type VerifiedCard } from './service.js';
export { ReaderTerminals, TerminalEnrolmentError, type TerminalInfo } from './terminals/service.js';

export const cardReadEntities = [CardReadRequestSchema, ReaderTerminalSchema];
const messages = {
  'zh-TW': { ...cardReadMessages['zh-TW'], ...environmentMessages['zh-TW'] },
  en: { ...cardReadMessages.en, ...environmentMessages.en },
};

/** Card reads: their routes (citizen routes, behind the service-hours gate), the panel API, terminals. */
export function createCardReadsModule(deps: {
  config: Pick<Config, 'publicOrigin' | 'agentOrigin' | 'sessionSecret' | 'cardReadFreshMs' | 'intranetAllow'>;
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  rateLimits: RateLimits;
  cards: CardRegistry;
  persons: Pick<HouseholdRegistry, 'findPerson'>;
  purposes: readonly string[];
  staffPurposes: readonly string[];
  /** INTRANET_ALLOW: where a counter terminal's signed read may come from. */
  intranet: AddressList;
}) {
  const terminals = new ReaderTerminals(deps);
  const challenges = new ReadChallenges(deps.config.sessionSecret);
  const staffPurposes = new Set(deps.staffPurposes);
  const service = new CardReadService({
    ...deps,
    publicOrigin: deps.config.publicOrigin,
    terminals,
    challenges,
    purposes: new Set(deps.purposes),
    staffPurposes,
    acceptsTerminalRead: (purpose, address) => staffPurposes.has(purpose) && deps.intranet.has(address),
  });
  const cardReads = createCardReads({
    service,
    agentOrigin: deps.config.agentOrigin,
    publicOrigin: deps.config.publicOrigin,
    clock: deps.clock,
    freshMs: deps.config.cardReadFreshMs,
  });
  const citizenRouter = cardReadRouter({ service, cardReads, rateLimits: deps.rateLimits });
  citizenRouter.use(environmentRouter({ cardReads, registry: deps.cards, downloads: agentDownloads({ publicOrigin: deps.config.publicOrigin }) }));
  const router = cardReadAnswerRouter({ service, cardReads, rateLimits: deps.rateLimits });
  const web: WebModule = { name: 'cardReads', router, citizenRouter, messages, csrfExempt: [CARD_READ_RETURN_PATH] };
  const staffRouter = staffCardReadRouter({ service, cardReads, rateLimits: deps.rateLimits });
  return { web, cardReads, terminals, service, staffRouter };
}

/** The card-reads module's definition: it checks reads against the card registry and the household registry. */
export const cardReadsModule = defineModule({
  name: 'cardReads',
  entities: cardReadEntities,
  messages,
  cardReadPurposes: ['env-check'],
  create(deps: PlatformDeps & { modules: { household: { registry: Pick<HouseholdRegistry, 'findPerson'> }; cards: { registry: CardRegistry } } }) {
    const { web, cardReads, terminals, service, staffRouter } = createCardReadsModule({
      ...deps,
      cards: deps.modules.cards.registry,
      persons: deps.modules.household.registry,
      purposes: deps.cardReadPurposes,
      staffPurposes: deps.staffCardReadPurposes,
      intranet: addressList(deps.config.intranetAllow),
    });
    // staffRouter: the claim and 清除 of staff pages' reads, for the intranet to mount behind its login check.
    return { web, api: { cardReads, terminals, service, staffRouter } };
  },
});
