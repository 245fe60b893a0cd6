import type { Orm } from '../../platform/db/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Locale } from '../../platform/i18n/index.js';
import { AnnouncementSchema, type Announcement } from './entities/announcement.js';

export interface PublicAnnouncement {
  id: number;
  title: string;
  body: string | null;
  marquee: boolean;
  publishedAt: Date;
}

/** The most announcements any page lists. */
const MAX_LISTED = 20;

export class AnnouncementService {
  /**
   * Every home page shows the announcements, and they change a few times a month: each process keeps what it
   * read for `cacheMs`, so a new or withdrawn announcement shows everywhere within that time.
   */
  private cache: { until: number; rows: Announcement[] } | undefined;

  constructor(private readonly orm: Orm, private readonly clock: Clock, private readonly cacheMs = 30_000) {}

  /** Announcements in force now, newest first, in the reader's language (Chinese where no English is given). */
  async current(locale: Locale, limit = 5): Promise<PublicAnnouncement[]> {
    const now = this.clock.now();
    const rows = (await this.inForce(now)).filter((a) => a.publishFrom <= now && (!a.publishUntil || a.publishUntil > now));
    return rows.slice(0, limit).map((a) => ({
      id: a.id,
      title: (locale === 'en' && a.titleEn) || a.titleZh,
      body: (locale === 'en' && a.bodyEn) || a.bodyZh || null,
      marquee: a.marquee,
      publishedAt: a.publishFrom,
    }));
  }

  /** Forget what was read, so the next page shows the change at once (after staff change an announcement). */
  invalidate(): void {
    this.cache = undefined;
  }

  private async inForce(now: Date): Promise<Announcement[]> {
    if (this.cache && this.cache.until > now.getTime()) return this.cache.rows;
    const rows = await this.orm.em.fork().find(
      AnnouncementSchema,
      { publishFrom: { $lte: now }, $or: [{ publishUntil: null }, { publishUntil: { $gt: now } }] },
      { orderBy: { publishFrom: 'desc', id: 'desc' }, limit: MAX_LISTED },
    );
    this.cache = { until: now.getTime() + this.cacheMs, rows };
    return rows;
  }
}
