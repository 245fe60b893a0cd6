import type { Messages } from '../../../platform/i18n/index.js';

export const announcementsMessages: Messages = { 'zh-TW': {}, en: {} };
