import type { Messages } from '../../../platform/i18n/index.js';

export const employersMessages: Messages = { 'zh-TW': {}, en: {} };
