import type { EntityManager } from '@mikro-orm/core';
import type { AuditLog } from '../../platform/audit/index.js';
import type { Orm } from '../../platform/db/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Locale } from '../../platform/i18n/index.js';
import type { Announcement } from './entities/announcement.js';
import { announcements, type AnnouncementFields } from './repository.js';

export interface PublicAnnouncement {
  id: number;
  title: string;
  body: string | null;
  marquee: boolean;
  publishedAt: Date;
}

/** Where an announcement stands now: not yet shown, shown, or ended (by its end time or by 下架). */
export type AnnouncementState = 'scheduled' | 'inForce' | 'ended';

/** An announcement as staff see and edit it. */
export interface StaffAnnouncement extends AnnouncementFields {
  id: number;
  createdAt: Date;
  createdBy: string | null;
  state: AnnouncementState;
}

/** What staff give for a new or changed announcement (plain text; the pages escape it wherever shown). */
export type AnnouncementInput = AnnouncementFields;

/** Who is writing, for the audit row. */
export interface AnnouncementActor {
  username: string;
  clientAddress: string;
}

export const TITLE_MAX = 200;
export const BODY_MAX = 2000;

/** Input the pages should have refused: a caller's bug, never shown to staff. */
export class AnnouncementInputError extends Error {
  override name = 'AnnouncementInputError';
}

/** The most announcements any page lists. */
const MAX_LISTED = 20;

export class AnnouncementService {
  /**
   * Every home page shows the announcements, and they change a few times a month: each process keeps what it
   * read for `cacheMs`, so a new or withdrawn announcement shows everywhere within that time.
   */
  private cache: { until: number; rows: Announcement[] } | undefined;
  private readonly cacheMs: number;
  private readonly audit: AuditLog | undefined;

  /** Without `audit` the service only reads (as another process's home page does); writes need it. */
  constructor(private readonly orm: Orm, private readonly clock: Clock, options: { cacheMs?: number; audit?: AuditLog } = {}) {
    this.cacheMs = options.cacheMs ?? 30_000;
    this.audit = options.audit;
  }

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

  /** Every announcement with its state now, the latest start first (the staff list; never cached). */
  async list(): Promise<StaffAnnouncement[]> {
    const now = this.clock.now();
    return (await announcements.all(this.orm.em.fork())).map((row) => this.forStaff(row, now));
  }

  async find(id: number): Promise<StaffAnnouncement | null> {
    const row = await announcements.byId(this.orm.em.fork(), id);
    return row ? this.forStaff(row, this.clock.now()) : null;
  }

  /** A new announcement; its id. */
  async create(input: AnnouncementInput, by: AnnouncementActor): Promise<number> {
    const fields = checked(input);
    const id = await this.write(async (em, audit) => {
      const created = await announcements.insert(em, { ...fields, createdAt: this.clock.now(), createdBy: by.username });
      audit.record(em, this.entry('announcement.create', created, by, fields.titleZh));
      return created;
    });
    return id;
  }

  /** Replaces what staff write of the announcement; false when there is no such announcement. */
  async update(id: number, input: AnnouncementInput, by: AnnouncementActor): Promise<boolean> {
    const fields = checked(input);
    return this.write(async (em, audit) => {
      if (!(await announcements.update(em, id, fields))) return false;
      audit.record(em, this.entry('announcement.update', id, by, fields.titleZh));
      return true;
    });
  }

  /**
   * 下架: ends the announcement now, unless it has already ended. 'already' changes nothing (and records
   * nothing); null when there is no such announcement.
   */
  async retire(id: number, by: AnnouncementActor): Promise<'retired' | 'already' | null> {
    return this.write(async (em, audit) => {
      const row = await announcements.byId(em, id);
      if (!row) return null;
      if (!(await announcements.endBy(em, id, this.clock.now()))) return 'already';
      audit.record(em, this.entry('announcement.retire', id, by, row.titleZh));
      return 'retired';
    });
  }

  /** One transaction; this process's cache is dropped once it has committed (other processes wait out cacheMs). */
  private async write<T>(work: (em: EntityManager, audit: AuditLog) => Promise<T>): Promise<T> {
    const audit = this.audit;
    if (!audit) throw new Error('this AnnouncementService was built without an audit log: it only reads');
    const result = await this.orm.em.fork().transactional((em) => work(em, audit));
    this.invalidate();
    return result;
  }

  private entry(action: string, id: number, by: AnnouncementActor, titleZh: string) {
    return {
      actorType: 'staff' as const,
      actorId: by.username,
      action,
      subject: `announcement:${id}`,
      outcome: 'success' as const,
      clientAddress: by.clientAddress,
      detail: { titleZh },
    };
  }

  private forStaff(row: Announcement, now: Date): StaffAnnouncement {
    const state: AnnouncementState = row.publishUntil && row.publishUntil <= now ? 'ended' : row.publishFrom > now ? 'scheduled' : 'inForce';
    return {
      id: row.id,
      titleZh: row.titleZh,
      titleEn: row.titleEn ?? null,
      bodyZh: row.bodyZh ?? null,
      bodyEn: row.bodyEn ?? null,
      marquee: row.marquee,
      publishFrom: row.publishFrom,
      publishUntil: row.publishUntil ?? null,
      createdAt: row.createdAt,
      createdBy: row.createdBy ?? null,
      state,
    };
  }

  private async inForce(now: Date): Promise<Announcement[]> {
    if (this.cache && this.cache.until > now.getTime()) return this.cache.rows;
    const rows = await announcements.inForce(this.orm.em.fork(), now, MAX_LISTED);
    this.cache = { until: now.getTime() + this.cacheMs, rows };
    return rows;
  }
}

/** The stored form of the input, refusing what the table or the pages' rules do not allow. */
function checked(input: AnnouncementInput): AnnouncementFields {
  const optional = (text: string | null | undefined) => (text?.trim() ? text.trim() : null);
  const fields: AnnouncementFields = {
    titleZh: input.titleZh.trim(),
    titleEn: optional(input.titleEn),
    bodyZh: optional(input.bodyZh),
    bodyEn: optional(input.bodyEn),
    marquee: input.marquee,
    publishFrom: input.publishFrom,
    publishUntil: input.publishUntil,
  };
  if (!fields.titleZh || fields.titleZh.length > TITLE_MAX || (fields.titleEn?.length ?? 0) > TITLE_MAX) throw new AnnouncementInputError('title');
  if ((fields.bodyZh?.length ?? 0) > BODY_MAX || (fields.bodyEn?.length ?? 0) > BODY_MAX) throw new AnnouncementInputError('body');
  if (Number.isNaN(fields.publishFrom.getTime()) || (fields.publishUntil && !(fields.publishUntil > fields.publishFrom))) throw new AnnouncementInputError('period');
  return fields;
}
