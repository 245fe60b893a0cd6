import type { Messages } from '../../../platform/i18n/index.js';
import { adminMessages } from './admin.js';
import { announcementsMessages } from './announcements.js';
import { auditMessages } from './audit.js';
import { coreMessages } from './core.js';
import { counterMessages } from './counter.js';
import { employersMessages } from './employers.js';

/** The intranet's catalogue, one file per area of its pages. */
export const intranetMessages: Messages = Object.fromEntries(
  (['zh-TW', 'en'] as const).map((locale) => [
    locale,
    { ...coreMessages[locale], ...counterMessages[locale], ...announcementsMessages[locale], ...auditMessages[locale], ...adminMessages[locale], ...employersMessages[locale] },
  ]),
) as Messages;
