import type { Orm } from '../../platform/db/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Locale } from '../../platform/i18n/index.js';
import { AnnouncementSchema } from './entities/announcement.js';

export interface PublicAnnouncement {
  id: number;
  title: string;
  body: string | null;
  marquee: boolean;
  publishedAt: Date;
}

export class AnnouncementService {
  constructor(private readonly orm: Orm, private readonly clock: Clock) {}

  /** Announcements in force now, newest first, in the reader's language (Chinese where no English is given). */
  async current(locale: Locale, limit = 5): Promise<PublicAnnouncement[]> {
    const now = this.clock.now();
    const rows = await this.orm.em.fork().find(
      AnnouncementSchema,
      { publishFrom: { $lte: now }, $or: [{ publishUntil: null }, { publishUntil: { $gt: now } }] },
      { orderBy: { publishFrom: 'desc', id: 'desc' }, limit },
    );
    return rows.map((a) => ({
      id: a.id,
      title: (locale === 'en' && a.titleEn) || a.titleZh,
      body: (locale === 'en' && a.bodyEn) || a.bodyZh || null,
      marquee: a.marquee,
      publishedAt: a.publishFrom,
    }));
  }
}
