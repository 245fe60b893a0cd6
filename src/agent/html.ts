// The agent's few HTML pages. Everything interpolated goes through esc().
import { createHash } from 'node:crypto';
import { both, pair, t, type Lang, type MessageKey } from './messages.js';
import type { ReadErrorCode, ReaderStatus, SimCard } from './readers.js';

export const esc = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

// Inline style and script are allowed by hash only (no 'unsafe-inline').
const STYLE = 'body{font-family:sans-serif;margin:.5em}.ok{color:#00703c}.no{color:#d4351c}';
export const STYLE_HASH = sha256(STYLE);
const SUBMIT_SCRIPT = 'document.forms[0].submit();';
export const SUBMIT_SCRIPT_HASH = sha256(SUBMIT_SCRIPT);

/** zh-TW then en, each marked with its language. */
const bilingual = (key: MessageKey): string => {
  const [zh, en] = pair(key);
  return `<span lang="zh-TW">${esc(zh)}</span> / <span lang="en">${esc(en)}</span>`;
};

function page(lang: Lang, title: string, body: string, head = ''): string {
  return `<!DOCTYPE html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${head}
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}

export function statusFragment(status: ReaderStatus, mode: 'sim' | 'pcsc'): string {
  const line = (ok: boolean, key: MessageKey, cls: string) =>
    `<p class="agent-status__${cls} ${ok ? 'ok' : 'no'}">${bilingual(key)}</p>`;
  const lines =
    status.error === 'pcsc_service_missing'
      ? [line(false, 'error.pcsc_service_missing', 'service')]
      : [
          line(status.reader, status.reader ? 'status.reader.ok' : 'status.reader.none', 'reader'),
          ...(status.reader ? [line(status.card, status.card ? 'status.card.ok' : 'status.card.none', 'card')] : []),
          ...(status.error === 'terminal_not_enrolled' ? [line(false, 'error.terminal_not_enrolled', 'terminal')] : []),
        ];
  lines.unshift(line(true, 'status.connected', 'connection'));
  if (mode === 'sim') lines.push(`<p class="agent-status__mode">${bilingual('status.simulated')}</p>`);
  return `<div class="agent-status" data-reader="${status.reader}" data-card="${status.card}" data-mode="${mode}"${
    status.error ? ` data-error="${esc(status.error)}"` : ''
  }>
${lines.join('\n')}
</div>`;
}

export const statusPage = (status: ReaderStatus, mode: 'sim' | 'pcsc'): string =>
  page('zh-TW', both('status.title'), statusFragment(status, mode), '<meta http-equiv="refresh" content="3">');

/** Keeps the first and last character, masks the rest: 王小明 → 王○明, 王明 → 王○. */
export function maskName(name: string): string {
  const chars = Array.from(name); // code points: rare characters may lie outside the BMP
  if (chars.length <= 1) return name;
  if (chars.length === 2) return `${chars[0]}○`;
  return `${chars[0]}${'○'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/** The page that carries the read (or its error) back to the server and submits itself. */
export function resultPage(input: {
  lang: Lang;
  returnUrl: string;
  req: string;
  /** The server's challenge, sent back with an error so the server can tell which request failed. */
  challenge: string;
  assertion?: string;
  error?: ReadErrorCode | 'busy';
  holderName?: string;
}): string {
  const { lang } = input;
  const summary =
    input.assertion !== undefined
      ? `${esc(t(lang, 'read.done'))}<strong>${esc(maskName(input.holderName ?? ''))}</strong>`
      : `${esc(t(lang, 'read.failed'))}${esc(input.error ? t(lang, `error.${input.error}`) : '')}`;
  const field = input.assertion !== undefined ? ['assertion', input.assertion] : ['error', input.error ?? ''];
  return page(
    lang,
    t(lang, 'read.title'),
    `<p>${summary}</p>
<form method="post" action="${esc(input.returnUrl)}">
<input type="hidden" name="req" value="${esc(input.req)}">
<input type="hidden" name="${field[0]}" value="${esc(field[1])}">
${input.assertion === undefined ? `<input type="hidden" name="challenge" value="${esc(input.challenge)}">\n` : ''}<button type="submit">${esc(t(lang, 'read.continue'))}</button>
</form>
<script>${SUBMIT_SCRIPT}</script>`,
  );
}

/** A plain page for refusals (403/400/404): no form, nothing read. */
export const messagePage = (titleKey: MessageKey, textKey: MessageKey): string =>
  page('zh-TW', both(titleKey), `<h1>${bilingual(titleKey)}</h1>\n<p>${bilingual(textKey)}</p>`);

export function trayPage(input: {
  status: ReaderStatus;
  inserted: SimCard | null;
  cards: Array<{ id: string; card: SimCard }>;
}): string {
  const describe = (c: SimCard) =>
    `${esc(c.name)} (${esc(c.cardNumber)}, ${esc(c.idNumber)})${c.household ? ` — ${bilingual('tray.household')} ${esc(c.household.householdNumber)}, ${esc(c.household.place)} ${c.household.neighborhood} 鄰` : ''}`;
  const inReader = input.inserted
    ? `<p>${bilingual('tray.inReader')} ${describe(input.inserted)}</p>
<form method="post" action="/sim/tray/remove"><button type="submit">${bilingual('tray.remove')}</button></form>`
    : `<p>${bilingual('tray.empty')}</p>`;
  const list = input.cards.length
    ? `<ul>
${input.cards
  .map(
    ({ id, card }) => `<li><form method="post" action="/sim/tray/insert"><input type="hidden" name="card" value="${esc(id)}">
${describe(card)} <button type="submit">${bilingual('tray.insert')}</button></form></li>`,
  )
  .join('\n')}
</ul>`
    : `<p>${bilingual('tray.noCards')}</p>`;
  return page(
    'zh-TW',
    both('tray.title'),
    `<h1>${bilingual('tray.title')}</h1>
${statusFragment(input.status, 'sim')}
${inReader}
<h2>${bilingual('tray.cards')}</h2>
${list}`,
  );
}

export const homePage = (status: ReaderStatus): string =>
  page('zh-TW', both('agent.title'), `<h1>${bilingual('agent.title')}</h1>\n${statusFragment(status, 'pcsc')}`);
