import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** 角色管理: 健保卡註冊上傳 (upload) and 健保卡註冊查詢 (query), granted to a clerk by the unit's admin. */
export const EMPLOYER_ROLES = ['upload', 'query'] as const;
export type EmployerRole = (typeof EMPLOYER_ROLES)[number];

export const EmployerRoleSchema = defineEntity({
  name: 'EmployerRole',
  tableName: 'employer_role',
  properties: {
    unitCode: p.character().length(8).primary(),
    /** The clerk: a registered person's ID number. */
    idNumber: p.character().length(10).primary().index(),
    role: p.enum([...EMPLOYER_ROLES]).primary(),
    grantedAt: p.datetime(),
    /** The admin's ID number. */
    grantedBy: p.character().length(10),
  },
});

export type EmployerRoleGrant = InferEntity<typeof EmployerRoleSchema>;
