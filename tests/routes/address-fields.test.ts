import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as cheerio from 'cheerio';
import request from 'supertest';
import { useTestApp } from '../helpers/app.js';
import { errorFor } from '../../src/platform/forms/index.js';
import type { Views } from '../../src/platform/views/index.js';
import { addressChoices, parseAddress } from '../../src/modules/household/index.js';

const TAIPEI = '63000';
const SONGSHAN = '63000010'; // 臺北市松山區, 33 村里
const ZHUANGJING = '63000010002'; // 松山區莊敬里
const CHIAYI_CITY = '10020';
const CHIAYI_EAST = '10020010'; // 嘉義市東區
const NANGAN = '09007010'; // 連江縣南竿鄉: 仁愛村 is "Ren'ai Vil."
const RENAI = '09007010005';

const t = useTestApp();

describe('the 戶籍鄉鎮里鄰 address picker (GET /address-fields)', () => {
  async function fragment(query: Record<string, string>, headers: Record<string, string> = { 'HX-Request': 'true' }) {
    const res = await request(t.app).get('/address-fields').query(query).set(headers);
    assert.equal(res.status, 200);
    const $ = cheerio.load(res.text);
    const options = (name: string) => $(`select[name=${name}] option`).toArray().map((o) => [$(o).attr('value'), $(o).text()]);
    const selected = (name: string) => $(`select[name=${name}] option[selected]`).attr('value');
    return { res, $, options, selected };
  }

  test('with nothing picked: every county, empty township and village lists, each with 請選擇 first', async () => {
    const { $, options } = await fragment({});
    assert.equal($('fieldset#address-fields > legend').text(), '戶籍鄉鎮里鄰');
    const counties = options('county');
    assert.deepEqual(counties[0], ['', '請選擇']);
    assert.equal(counties.length, 1 + 22);
    assert.ok(counties.some(([code, name]) => code === TAIPEI && name === '臺北市'));
    assert.deepEqual(options('township'), [['', '請選擇']]);
    assert.deepEqual(options('village'), [['', '請選擇']]);
  });

  test('a county lists exactly its own townships', async () => {
    const { options, selected } = await fragment({ county: TAIPEI });
    assert.equal(selected('county'), TAIPEI);
    assert.deepEqual(options('township').map(([, name]) => name), [
      '請選擇', '松山區', '信義區', '大安區', '中山區', '中正區', '大同區', '萬華區', '文山區', '南港區', '內湖區', '士林區', '北投區',
    ]);
    assert.deepEqual(options('village'), [['', '請選擇']], 'no villages before a township is picked');
  });

  test('picking a township lists its villages; the picked village and the 鄰 stay', async () => {
    const { options, selected, $ } = await fragment({ county: TAIPEI, township: SONGSHAN, village: ZHUANGJING, neighborhood: '12' });
    assert.equal(selected('township'), SONGSHAN);
    const villages = options('village').slice(1);
    assert.equal(villages.length, 33);
    assert.ok(villages.every(([code]) => code!.startsWith(SONGSHAN)));
    assert.ok(villages.some(([, name]) => name === '莊敬里'));
    assert.equal(selected('village'), ZHUANGJING);
    assert.equal($('#neighborhood').val(), '12');
  });

  test('when the county changes, the township (and village) of the other county are dropped', async () => {
    const { options, selected } = await fragment({ county: CHIAYI_CITY, township: SONGSHAN, village: ZHUANGJING });
    assert.equal(selected('county'), CHIAYI_CITY);
    assert.deepEqual(options('township').map(([, name]) => name), ['請選擇', '東區', '西區']);
    assert.equal(selected('township'), undefined);
    assert.deepEqual(options('village'), [['', '請選擇']]);
    assert.equal(selected('village'), undefined);
  });

  test('a village of another township is dropped, the township kept', async () => {
    const { selected, options } = await fragment({ county: CHIAYI_CITY, township: CHIAYI_EAST, village: ZHUANGJING });
    assert.equal(selected('township'), CHIAYI_EAST);
    assert.equal(options('village').length, 1 + 39);
    assert.equal(selected('village'), undefined);
  });

  test('walking every county and township through the fragment finds all 7,748 villages, as DivisionsService does', async () => {
    const divisions = t.services.api.household.divisions;
    let shown = 0;
    let stored = 0;
    for (const [county] of (await fragment({})).options('county').slice(1)) {
      for (const [township] of (await fragment({ county: county! })).options('township').slice(1)) {
        const villages = (await fragment({ county: county!, township: township! })).options('village').slice(1);
        shown += villages.length;
        stored += (await divisions.villages(township!)).length;
      }
    }
    assert.equal(shown, 7748);
    assert.equal(stored, 7748);
  });

  test('HTMX: county and township swap the whole fieldset; the fragment has no page around it; no-JS has the 更新選項 button', async () => {
    const { res, $ } = await fragment({ county: TAIPEI });
    assert.doesNotMatch(res.text, /<html|<body/);
    assert.equal($('body').children().length, 1, 'only the fieldset');
    for (const name of ['county', 'township']) {
      const select = $(`select[name=${name}]`);
      assert.equal(select.attr('hx-get'), '/address-fields');
      assert.equal(select.attr('hx-trigger'), 'change');
      assert.equal(select.attr('hx-target'), '#address-fields');
      assert.equal(select.attr('hx-swap'), 'outerHTML');
      assert.equal(select.attr('hx-include'), '#address-fields');
    }
    assert.equal($('select[name=village]').attr('hx-get'), undefined);
    const refresh = $('button[type=submit][name=refresh]');
    assert.equal(refresh.attr('value'), 'address');
    assert.equal(refresh.text(), '更新選項');
    const neighborhood = $('input[name=neighborhood]');
    assert.equal(neighborhood.attr('inputmode'), 'numeric');
    assert.equal(neighborhood.attr('maxlength'), '3');
    assert.ok(res.headers['vary']?.includes('HX-Request'));

    const plain = await fragment({ county: TAIPEI }, {});
    assert.equal(plain.res.text, res.text, 'without HX-Request the same fragment');
  });

  test('what was sent is escaped: a 鄰 with markup, a county that is no code, an English name with an apostrophe', async () => {
    const { res, $, selected } = await fragment({ county: '"><script>alert(1)</script>', neighborhood: '<b hx-get="/x">' });
    assert.doesNotMatch(res.text, /<script|<b hx-get/);
    assert.match(res.text, /value="&lt;b hx-get=&quot;\/x&quot;&gt;"/);
    assert.equal($('#neighborhood').val(), '<b hx-get="/x">');
    assert.equal(selected('county'), undefined);

    const english = await fragment({ lang: 'en', county: '09007', township: NANGAN, village: RENAI });
    assert.equal(english.$('legend').text(), 'Registered address (township, village, neighbourhood)');
    assert.equal(english.$('select[name=village] option').first().text(), 'Select…');
    assert.equal(english.$('select[name=village] option[selected]').text(), "Ren'ai Vil.");
    assert.match(english.res.text, /Ren&#39;ai Vil\./);
  });
});

describe('parseAddress', () => {  const key = (k: string) => k; // the catalogue keys themselves, to see which rule answered
  const parse = (body: Record<string, unknown>) => parseAddress(t.services.api.household.divisions, body, key);

  test('a village of the picked township and a 鄰 of 1–999 give the village code and the number', async () => {
    assert.deepEqual(await parse({ county: TAIPEI, township: SONGSHAN, village: ZHUANGJING, neighborhood: '012' }), {
      ok: true,
      value: { villageCode: ZHUANGJING, neighborhood: 12 },
    });
  });

  test('each wrong field has its own message', async () => {
    assert.deepEqual(await parse({ county: TAIPEI, township: SONGSHAN }), {
      ok: false,
      errors: [
        { field: 'village', message: 'address.error.villageMissing' },
        { field: 'neighborhood', message: 'address.error.neighborhoodMissing' },
      ],
    });
    // The county changed with JS off, the old village still posted.
    const stale = await parse({ county: CHIAYI_CITY, township: CHIAYI_EAST, village: ZHUANGJING, neighborhood: '0' });
    assert.deepEqual(stale, {
      ok: false,
      errors: [
        { field: 'village', message: 'address.error.villageUnknown' },
        { field: 'neighborhood', message: 'address.error.neighborhoodInvalid' },
      ],
    });
    const unknown = await parse({ county: TAIPEI, township: SONGSHAN, village: '63000010999', neighborhood: '1000' });
    assert.deepEqual(unknown.ok ? [] : unknown.errors.map((e) => e.message), ['address.error.villageUnknown', 'address.error.neighborhoodInvalid']);
    const repeated = await parse({ county: TAIPEI, township: SONGSHAN, village: [ZHUANGJING, ZHUANGJING], neighborhood: '3' });
    assert.deepEqual(repeated.ok ? [] : repeated.errors.map((e) => e.message), ['address.error.villageMissing']);
  });

  test('in a form that failed, the partial shows each message beside its field, linked by aria-describedby', async () => {
    const divisions = t.services.api.household.divisions;
    const translate = t.services.i18n.translator('zh-TW');
    const body = { county: CHIAYI_CITY, township: CHIAYI_EAST, village: ZHUANGJING, neighborhood: 'x1' };
    const parsed = await parseAddress(divisions, body, translate);
    assert.equal(parsed.ok, false);
    const html = (t.app.locals.views as Views).render('household/_address', {
      address: await addressChoices(divisions, body), errors: parsed.ok ? [] : parsed.errors, errorFor, t: translate, locale: 'zh-TW',
    });
    const $ = cheerio.load(html);
    assert.match($('#village-error').text(), /所選的村里不在所選的鄉鎮市區內/);
    assert.equal($('#village').attr('aria-invalid'), 'true');
    assert.equal($('#village').attr('aria-describedby'), 'village-error');
    assert.match($('#neighborhood-error').text(), /鄰必須是 1 到 999 的數字/);
    assert.equal($('#neighborhood').attr('aria-describedby'), 'neighborhood-hint neighborhood-error');
    assert.equal($('#neighborhood').val(), 'x1', 'what was typed is shown again');
    assert.equal($('#county').attr('aria-invalid'), undefined);
  });
});
