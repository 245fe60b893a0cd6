import type { EntityManager } from '@mikro-orm/core';
import { AnnouncementSchema, type Announcement } from './entities/announcement.js';

/** The fields staff write; the id, createdAt and createdBy are set once, at creation. */
export type AnnouncementFields = Pick<Announcement, 'titleZh' | 'titleEn' | 'bodyZh' | 'bodyEn' | 'marquee' | 'publishFrom' | 'publishUntil'>;

/** Announcements: every change is one statement, so two staff members' writes cannot interleave within a row. */
export const announcements = {
  /** In force at `at`, newest first: what the home page lists. */
  inForce(em: EntityManager, at: Date, limit: number): Promise<Announcement[]> {
    return em.find(
      AnnouncementSchema,
      { publishFrom: { $lte: at }, $or: [{ publishUntil: null }, { publishUntil: { $gt: at } }] },
      { orderBy: { publishFrom: 'desc', id: 'desc' }, limit, disableIdentityMap: true },
    );
  },

  /** Every announcement, past, present and scheduled: the latest start first. */
  all(em: EntityManager): Promise<Announcement[]> {
    return em.find(AnnouncementSchema, {}, { orderBy: { publishFrom: 'desc', id: 'desc' }, disableIdentityMap: true });
  },

  byId(em: EntityManager, id: number): Promise<Announcement | null> {
    return em.findOne(AnnouncementSchema, { id }, { disableIdentityMap: true });
  },

  async insert(em: EntityManager, row: AnnouncementFields & { createdAt: Date; createdBy: string }): Promise<number> {
    return (await em.insert(AnnouncementSchema, row)) as number;
  },

  /** Whether the announcement exists (and so was changed). */
  async update(em: EntityManager, id: number, fields: AnnouncementFields): Promise<boolean> {
    return (await em.nativeUpdate(AnnouncementSchema, { id }, fields)) === 1;
  },

  /** Ends the announcement at `at` unless it already ends by then; whether it changed. */
  async endBy(em: EntityManager, id: number, at: Date): Promise<boolean> {
    return (await em.nativeUpdate(AnnouncementSchema, { id, $or: [{ publishUntil: null }, { publishUntil: { $gt: at } }] }, { publishUntil: at })) === 1;
  },
};
