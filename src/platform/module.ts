import type { Router } from 'express';
import type { Messages } from './i18n/index.js';

/** What a domain module contributes to the web app. */
export interface WebModule {
  name: string;
  /** Routes open at all hours (intranet, development tools). */
  router?: Router;
  /** Citizen-facing routes: refused outside SERVICE_HOURS. */
  citizenRouter?: Router;
  messages?: Messages;
  /** Paths that are protected by other means than the CSRF token (see READER-AGENT.md, the card-read return). */
  csrfExempt?: RegExp[];
}
