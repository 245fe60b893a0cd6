import type { Config } from '../../config.js';
import type { Clock } from '../../platform/clock.js';
import type { RateLimits } from '../../platform/http/index.js';
import { defineModule, type PlatformDeps, type WebModule } from '../../platform/module.js';
import type { CardReads } from '../card-reads/index.js';
import type { AnnouncementService } from '../intranet/index.js';
import { homeRouter } from './routes.js';

/** Login and the home page (the login page is the home page). */
export function createCredentialsModule(deps: { config: Config; clock: Clock; rateLimits: RateLimits; announcements: AnnouncementService; cardReads: CardReads }) {
  const { router, citizenRouter } = homeRouter(deps);
  const web: WebModule = { name: 'credentials', router, citizenRouter };
  return { web };
}

/** The credentials module's definition: the home page shows the intranet's announcements and reads the card to log in. */
export const credentialsModule = defineModule({
  name: 'credentials',
  cardReadPurposes: ['login'],
  create(deps: PlatformDeps & { modules: { intranet: { announcements: AnnouncementService }; cardReads: { cardReads: CardReads } } }) {
    const { web } = createCredentialsModule({ ...deps, announcements: deps.modules.intranet.announcements, cardReads: deps.modules.cardReads.cardReads });
    return { web, api: {} };
  },
});
