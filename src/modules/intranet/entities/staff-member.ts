import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const STAFF_ROLES = ['clerk', 'supervisor', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** A counter staff account (username + password, not a card): made by `npm run staff:create` or an admin. */
export const StaffMemberSchema = defineEntity({
  name: 'StaffMember',
  tableName: 'staff_member',
  properties: {
    /** Lower case, as typed at login. */
    username: p.string().length(32).primary(),
    role: p.enum([...STAFF_ROLES]),
    /** argon2id. */
    passwordHash: p.string().length(200),
    passwordChangedAt: p.datetime(),
    /** A disabled account cannot log in; its sessions end. */
    disabledAt: p.datetime().nullable(),
    consecutiveFailures: p.integer().default(0),
    /** Set at the lockout; an admin's unlock (or a new password from one) clears it. */
    lockedAt: p.datetime().nullable(),
    /** Raised by a password change, a role change, disabling and unlocking: sessions with an older one end. */
    sessionEpoch: p.integer().default(0),
    createdAt: p.datetime(),
    /** Who made the account (null: the command line). */
    createdBy: p.string().length(32).nullable(),
    updatedAt: p.datetime(),
  },
});

export type StaffMember = InferEntity<typeof StaffMemberSchema>;
