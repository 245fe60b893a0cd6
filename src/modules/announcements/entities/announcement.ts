import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** 最新公告: shown on the home page between its start and end; written by counter staff. */
export const AnnouncementSchema = defineEntity({
  name: 'Announcement',
  tableName: 'announcement',
  properties: {
    id: p.integer().primary().autoincrement(),
    titleZh: p.string().length(200),
    titleEn: p.string().length(200).nullable(),
    bodyZh: p.text().nullable(),
    bodyEn: p.text().nullable(),
    /** Shown in the scrolling marquee (跑馬燈) as well as the list. */
    marquee: p.boolean().default(false),
    publishFrom: p.datetime().index(),
    publishUntil: p.datetime().nullable(),
    createdAt: p.datetime(),
    createdBy: p.string().length(64).nullable(),
  },
});

export type Announcement = InferEntity<typeof AnnouncementSchema>;
