import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** pending: applied, e-mail not confirmed; active: may log in; suspended: at the counter; deleted: may register again. */
export const REGISTRATION_STATES = ['pending', 'active', 'suspended', 'deleted'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

/** One person's registration (the card + registration password identity), keyed by ID number. */
export const RegistrationSchema = defineEntity({
  name: 'Registration',
  tableName: 'registration',
  properties: {
    idNumber: p.character().length(10).primary(),
    /** The card it was made with; any valid card of the person logs in. */
    cardNumber: p.character().length(12),
    state: p.enum([...REGISTRATION_STATES]),
    /** argon2id; the password itself is never stored or logged. */
    passwordHash: p.string().length(200),
    passwordChangedAt: p.datetime(),
    /** Raised by every password change, reset or suspension: sessions that hold an older one are ended. */
    sessionEpoch: p.integer(),
    /** Null for a registration made through the app (行動電話認證): no confirmation mail, no address. */
    email: p.string().length(254).nullable(),
    spareEmail: p.string().length(254).nullable(),
    /** As typed: (區碼)-號碼#分機, e.g. 02-27065866#1234. */
    localPhone: p.string().length(30).nullable(),
    mobile: p.character().length(10).nullable(),
    /** The language of the person's mails. */
    locale: p.string().length(5),
    createdAt: p.datetime(),
    /**
     * Made by an employer's bulk upload: no password yet (passwordHash is empty), the person sets it when they
     * activate with the mailed link and their card.
     */
    needsPassword: p.boolean().default(false),
    /** The unit whose bulk upload made it (null for every other way of registering). */
    viaUnit: p.character().length(8).nullable(),
    confirmedAt: p.datetime().nullable(),
    updatedAt: p.datetime(),
  },
});

export type Registration = InferEntity<typeof RegistrationSchema>;
