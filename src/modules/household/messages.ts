import type { Messages } from '../../platform/i18n/index.js';

/** Texts of the 戶籍鄉鎮里鄰 address picker (views/household/_address.eta). */
export const householdMessages: Messages = {
  'zh-TW': {
    'address.legend': '戶籍鄉鎮里鄰',
    'address.county': '縣市',
    'address.township': '鄉鎮市區',
    'address.village': '村里',
    'address.neighborhood': '鄰',
    'address.neighborhoodHint': '請輸入數字，例如 12',
    'address.select': '請選擇',
    'address.refresh': '更新選項',
    'address.refreshHint': '選好縣市或鄉鎮市區後，請按「更新選項」列出下一層的選項。',
    'address.error.villageMissing': '請選擇戶籍所在的村里',
    'address.error.villageUnknown': '所選的村里不在所選的鄉鎮市區內，請按「更新選項」後重新選擇村里',
    'address.error.neighborhoodMissing': '請輸入鄰',
    'address.error.neighborhoodInvalid': '鄰必須是 1 到 999 的數字',
  },
  en: {
    'address.legend': 'Registered address (township, village, neighbourhood)',
    'address.county': 'County or city',
    'address.township': 'Township or district',
    'address.village': 'Village',
    'address.neighborhood': 'Neighbourhood (鄰)',
    'address.neighborhoodHint': 'A number, for example 12',
    'address.select': 'Select…',
    'address.refresh': 'Update choices',
    'address.refreshHint': 'After choosing the county or the township, press "Update choices" to list the next choices.',
    'address.error.villageMissing': 'Select the village of your registered address',
    'address.error.villageUnknown': 'The village is not in the township chosen; press "Update choices" and choose the village again',
    'address.error.neighborhoodMissing': 'Enter the neighbourhood (鄰)',
    'address.error.neighborhoodInvalid': 'The neighbourhood (鄰) must be a number from 1 to 999',
  },
};
