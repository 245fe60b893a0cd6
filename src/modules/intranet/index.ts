import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import { defineModule, type PlatformDeps, type WebModule } from '../../platform/module.js';
import { AnnouncementSchema } from './entities/announcement.js';
import { AnnouncementService } from './service.js';

export { AnnouncementService, type PublicAnnouncement } from './service.js';
export const intranetEntities = [AnnouncementSchema];

/** The counter intranet. For now it owns the announcements the home page shows. */
export function createIntranetModule(deps: { orm: Orm; clock: Clock }) {
  const announcements = new AnnouncementService(deps.orm, deps.clock);
  const web: WebModule = { name: 'intranet' };
  return { web, announcements };
}

/** The intranet's definition: the counter flow reads cards (purpose `counter`). */
export const intranetModule = defineModule({
  name: 'intranet',
  entities: intranetEntities,
  cardReadPurposes: ['counter'],
  create: (deps: PlatformDeps) => ({ api: { announcements: createIntranetModule(deps).announcements } }),
});
