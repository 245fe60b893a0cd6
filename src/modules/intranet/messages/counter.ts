import type { Messages } from '../../../platform/i18n/index.js';

export const counterMessages: Messages = { 'zh-TW': {}, en: {} };
