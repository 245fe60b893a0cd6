import { AuditEventSchema } from './platform/audit/index.js';
import { mailEntities } from './platform/mail/index.js';
import { intranetEntities } from './modules/intranet/index.js';
import { householdEntities } from './modules/household/index.js';
import { cardEntities, cardReadEntities } from './modules/cards/index.js';
import { employerEntities } from './modules/employers/index.js';

/** Every entity the ORM maps: the platform's and each module's (exported by the module's index.ts). */
export const entities = [AuditEventSchema, ...mailEntities, ...intranetEntities, ...householdEntities, ...cardEntities, ...cardReadEntities, ...employerEntities];
