import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { StaffMemberSchema } from './entities/staff-member.js';

/** The counter intranet (臨櫃): staff accounts and the counter's pages, under /intranet. */
export const intranetModule = defineModule({
  name: 'intranet',
  entities: [StaffMemberSchema],
  cardReadPurposes: ['counter'],
  create: (_deps: PlatformDeps) => ({ api: {} }),
});
