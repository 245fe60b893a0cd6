import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { AnnouncementSchema } from './entities/announcement.js';
import { AnnouncementService } from './service.js';

export {
  AnnouncementService,
  AnnouncementInputError,
  BODY_MAX,
  TITLE_MAX,
  type AnnouncementActor,
  type AnnouncementInput,
  type AnnouncementState,
  type PublicAnnouncement,
  type StaffAnnouncement,
} from './service.js';

/** 最新公告 and the marquee: read by the home page, written by counter staff through this API. */
export const announcementsModule = defineModule({
  name: 'announcements',
  entities: [AnnouncementSchema],
  create: (deps: PlatformDeps) => ({ api: { announcements: new AnnouncementService(deps.orm, deps.clock, { audit: deps.audit }) } }),
});
