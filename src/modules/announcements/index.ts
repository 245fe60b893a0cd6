import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { AnnouncementSchema } from './entities/announcement.js';
import { AnnouncementService } from './service.js';

export { AnnouncementService, type PublicAnnouncement } from './service.js';

/** 最新公告 and the marquee: read by the home page, written by counter staff through this API. */
export const announcementsModule = defineModule({
  name: 'announcements',
  entities: [AnnouncementSchema],
  create: (deps: PlatformDeps) => ({ api: { announcements: new AnnouncementService(deps.orm, deps.clock) } }),
});
