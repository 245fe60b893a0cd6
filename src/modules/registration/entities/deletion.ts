import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** A captcha answered once: its id, so the same image and answer cannot be posted again (10 minutes at most). */
export const CaptchaUseSchema = defineEntity({
  name: 'CaptchaUse',
  tableName: 'captcha_use',
  properties: {
    id: p.character().length(22).primary(),
    usedAt: p.datetime(),
  },
});

/**
 * The person's open 刪除註冊申請: one row per person, written over by a new request (which voids the previous code).
 * Only an HMAC of the e-mailed code is kept.
 */
export const DeletionRequestSchema = defineEntity({
  name: 'DeletionRequest',
  tableName: 'deletion_request',
  properties: {
    idNumber: p.character().length(10).primary(),
    /** The 檢核 this request came from: a second 送出刪除註冊 of the same flow sends no second mail. */
    flowId: p.character().length(22),
    codeHash: p.character().length(43),
    /** Where the confirmation went (the stored address, or option b's new one). */
    email: p.string().length(254),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    failedAttempts: p.integer(),
    usedAt: p.datetime().nullable(),
    voidedAt: p.datetime().nullable(),
  },
});

export type DeletionRequest = InferEntity<typeof DeletionRequestSchema>;
