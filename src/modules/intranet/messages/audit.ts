import type { Messages } from '../../../platform/i18n/index.js';

export const auditMessages: Messages = { 'zh-TW': {}, en: {} };
