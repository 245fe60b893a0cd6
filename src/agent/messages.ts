// The agent's message catalogue: every text it shows, zh-TW and en.
export type Lang = 'zh-TW' | 'en';

const messages = {
  'status.title': ['讀卡機狀態', 'Card reader status'],
  // Whoever sees this fragment reached the agent: the environment check's 伺服器連線正常.
  'status.connected': ['伺服器連線正常', 'Connected to the reader agent'],
  'status.reader.ok': ['讀卡機已連接', 'Reader connected'],
  'status.reader.none': ['未偵測到讀卡機', 'No card reader detected'],
  'status.card.ok': ['已插入健保卡', 'Card inserted'],
  'status.card.none': ['請插入健保卡', 'Please insert your NHI card'],
  'status.simulated': ['模擬讀卡機', 'Simulated reader'],
  'error.no_reader': ['未偵測到讀卡機', 'No card reader detected'],
  'error.no_card': ['讀卡機內沒有健保卡', 'There is no card in the reader'],
  'error.card_unreadable': ['無法讀取這張健保卡', 'The card could not be read'],
  'error.pcsc_service_missing': ['讀卡服務未啟動 (PC/SC)', 'The card reader service (PC/SC) is not running'],
  'error.terminal_not_enrolled': ['本機尚未登錄為讀卡端末', 'This computer is not enrolled as a card terminal'],
  'error.busy': ['讀卡機忙碌中，請稍後再試', 'The reader is busy, please try again'],
  'read.title': ['讀取健保卡', 'Reading the NHI card'],
  'read.done': ['已讀取健保卡：', 'Card read: '],
  'read.failed': ['讀卡失敗：', 'Card read failed: '],
  'read.continue': ['繼續', 'Continue'],
  'refused.title': ['拒絕讀卡', 'Card read refused'],
  'refused.origin': ['此網站未獲授權使用本機讀卡程式。', 'This site is not allowed to use the card reader on this computer.'],
  'refused.request': ['讀卡請求格式錯誤。', 'The card read request is malformed.'],
  'refused.tray': ['只能從本機讀卡程式的頁面操作。', 'Only the reader agent’s own page may do this.'],
  'notFound.title': ['找不到頁面', 'Page not found'],
  'notFound.text': ['此網址不存在。', 'There is no such address.'],
  'tray.title': ['模擬讀卡機', 'Simulated card reader'],
  'tray.inReader': ['讀卡機內：', 'In the reader: '],
  'tray.empty': ['讀卡機內沒有卡片', 'The reader is empty'],
  'tray.cards': ['示範健保卡', 'Demo cards'],
  'tray.noCards': ['沒有示範健保卡', 'No demo cards'],
  'tray.household': ['戶籍（申請註冊時填寫）', 'household registration (for registering)'],
  'tray.insert': ['插入', 'Insert'],
  'tray.remove': ['取出', 'Remove'],
  'agent.title': ['健保卡讀卡程式', 'NHI card reader agent'],
} as const satisfies Record<string, readonly [string, string]>;

export type MessageKey = keyof typeof messages;

export const t = (lang: Lang, key: MessageKey): string => messages[key][lang === 'en' ? 1 : 0];

/** [zh-TW, en] */
export const pair = (key: MessageKey): readonly [string, string] => messages[key];

/** zh-TW first, then en, for pages that do not know the reader's language. */
export const both = (key: MessageKey): string => `${messages[key][0]} / ${messages[key][1]}`;

export const parseLang = (value: string | undefined): Lang => (value === 'en' ? 'en' : 'zh-TW');
