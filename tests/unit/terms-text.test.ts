import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createViews } from '../../src/platform/views/index.js';

const root = join(import.meta.dirname, '..', '..');
// The published text of the rules (全民健康保險網路服務註冊管理作業要點), as the agency prints it.
const publishedLines = readFileSync(join(root, 'tests', 'fixtures', 'terms', 'registration-rules.zh-TW.txt'), 'utf8').split('\n').map((l) => l.trim());

const views = createViews({ cache: false });
const source = (locale: string) => readFileSync(join(root, 'views', 'registration', `_terms.${locale}.eta`), 'utf8');
// Eta appends .eta only to names without an extension, and ".zh-TW" / ".en" count as one.
const rendered = (locale: string) => views.render(`registration/_terms.${locale}.eta`, {});
// What a reader sees, without markup or layout whitespace, so it compares with the published text's plain lines.
const text = (html: string) => html.replace(/<[^>]*>/g, '').replace(/\s+/g, '');

const articleOpening = /^(十[一二三四五]?|[一二三四五六七八九])、/;
// The regulation is the run of published lines from 一、 to 十五、, so these are the first 15 matches.
const articleAt = publishedLines.flatMap((l, i) => (articleOpening.test(l) ? [i] : [])).slice(0, 15);
const articleLines = articleAt.map((i) => publishedLines[i]!);
const openings = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二', '十三', '十四', '十五'].map((n) => `${n}、`);

const subItemsAfter = (article: number) =>
  publishedLines.slice(articleAt[article - 1]! + 1, articleAt[article]).filter((l) => l !== '');
const article2Items = subItemsAfter(2);
const article4Items = subItemsAfter(4);
// Every line of the regulation's body, in the published text's order.
const bodyLines = publishedLines.slice(articleAt[0], articleAt[14]! + 1).filter((l) => l !== '');

/** The `<li>` sub-items of article n, counted in the markup between its opening and the next article's. */
function subItemCount(html: string, n: number): number {
  const start = html.indexOf(`<li id="article-${n}">`);
  const end = n < 15 ? html.indexOf(`<li id="article-${n + 1}">`) : html.length;
  return (html.slice(start, end).match(/<li><span class="article-number">\(/g) ?? []).length;
}

test('the published text yields the 15 articles and the sub-items of articles 2 and 4', () => {
  assert.deepEqual(articleLines.map((l) => l.match(articleOpening)![0]), openings);
  assert.deepEqual(article2Items.map((l) => l.slice(0, 3)), ['(一)', '(二)', '(三)']);
  assert.deepEqual(article4Items.map((l) => l.slice(0, 3)), ['(一)', '(二)']);
});

test('the zh-TW terms hold every article and sub-item of the published text verbatim, in order', () => {
  const shown = text(rendered('zh-TW'));
  let from = 0;
  assert.equal(bodyLines.length, articleLines.length + article2Items.length + article4Items.length);
  for (const line of bodyLines) {
    const at = shown.indexOf(text(line), from);
    assert.ok(at >= 0, `missing or out of order: ${line}`);
    from = at + text(line).length;
  }
  const openingsAt = openings.map((o) => shown.indexOf(o));
  assert.deepEqual([...openingsAt].sort((a, b) => a - b), openingsAt);
  assert.ok(!openingsAt.includes(-1));
});

test('the zh-TW terms start with the three promulgation lines of the published text', () => {
  const html = rendered('zh-TW');
  const history = publishedLines.filter((l) => /^\d+年\d+月\d+日健保字第\d+號令/.test(l));
  assert.equal(history.length, 3);
  const paragraph = html.match(/<p class="terms-history">([\s\S]*?)<\/p>/);
  assert.ok(paragraph, 'no terms-history paragraph');
  assert.ok(html.indexOf(paragraph[0]) < html.indexOf('<ol'), 'history comes after the articles');
  assert.deepEqual(paragraph[1]!.split('<br>').map((l) => l.trim()), history);
});

test('both languages number the 15 articles 1..15 with the original numbering as text', () => {
  for (const [locale, numbers] of [
    ['zh-TW', openings],
    ['en', openings.map((_, i) => `${i + 1}.`)],
  ] as const) {
    const html = rendered(locale);
    const items = [...html.matchAll(/<li id="article-(\d+)"><span class="article-number">([^<]*)<\/span>/g)];
    assert.deepEqual(items.map((m) => Number(m[1])), Array.from({ length: 15 }, (_, i) => i + 1), locale);
    assert.deepEqual(items.map((m) => m[2]), numbers, locale);
    assert.match(html, /<ol class="terms-articles" role="list">/, locale);
    assert.equal(subItemCount(html, 2), article2Items.length, `${locale} article 2 sub-items`);
    assert.equal(subItemCount(html, 4), article4Items.length, `${locale} article 4 sub-items`);
  }
});

test('the English terms first say that the Chinese text prevails', () => {
  const html = rendered('en').trim();
  assert.match(html, /^<p class="terms-translation-note">[^<]*Chinese text prevails[^<]*<\/p>/);
});

test('the partials are static markup: no output tags, scripts, inline styles or raw & outside entities', () => {
  for (const locale of ['zh-TW', 'en']) {
    const eta = source(locale);
    assert.doesNotMatch(eta, /<%[=~]/, locale);
    assert.doesNotMatch(eta, /<script|\sstyle=|\son\w+=/i, locale);
    assert.doesNotMatch(eta.replace(/&(?:[a-z]+|#\d+);/g, ''), /&/, locale);
  }
});
