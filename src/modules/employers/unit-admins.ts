import type { AuditLog } from '../../platform/audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';

/** Each unit's admin for the employer portal, designated or replaced by counter staff. */
export class UnitAdmins {
  constructor(private readonly deps: { orm: Orm; clock: Clock; audit: AuditLog }) {}
}
