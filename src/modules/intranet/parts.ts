import type { IntranetDeps } from './index.js';
import type { CounterService } from './counter/service.js';
import type { StaffService } from './staff/service.js';
import type { StaffSessions } from './staff/sessions.js';

/** What each of the intranet's routers is given: the platform, the other modules' APIs, staff accounts and sessions, the counter's work. */
export type IntranetParts = IntranetDeps & { staff: StaffService; sessions: StaffSessions; counter: CounterService };
