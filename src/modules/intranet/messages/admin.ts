import type { Messages } from '../../../platform/i18n/index.js';

export const adminMessages: Messages = { 'zh-TW': {}, en: {} };
