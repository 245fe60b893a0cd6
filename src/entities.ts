import { AuditEventSchema } from './platform/audit/index.js';
import { intranetEntities } from './modules/intranet/index.js';

/** Every entity the ORM maps: the platform's and each module's (exported by the module's index.ts). */
export const entities = [AuditEventSchema, ...intranetEntities];
