import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** Consecutive wrong passwords of one person; locked_at set once they reach LOGIN_LOCKOUT_ATTEMPTS. */
export const LoginLockoutSchema = defineEntity({
  name: 'LoginLockout',
  tableName: 'login_lockout',
  properties: {
    idNumber: p.character().length(10).primary(),
    consecutiveFailures: p.integer(),
    /** Password login refused from then until a reset or a counter unlock. */
    lockedAt: p.datetime().nullable(),
    updatedAt: p.datetime(),
  },
});

export type LoginLockout = InferEntity<typeof LoginLockoutSchema>;
