import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { I18n, LOCALES } from '../../src/platform/i18n/index.js';
import { platformMessages } from '../../src/platform/i18n/messages.js';
import { MODULES } from '../../src/services.js';

const root = join(import.meta.dirname, '..', '..');
/** Every module's catalogue, from the definitions the app is built from. */
const moduleMessages = MODULES.flatMap((m) => (m.messages ? [m.messages] : []));

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : path.endsWith(ext) ? [path] : [];
  });
}

test('every message key a template or module uses exists in zh-TW and in en', () => {
  const i18n = new I18n(...moduleMessages);
  const used = new Set<string>();
  const literalKey = /\bt\(\s*'([a-zA-Z][\w.-]*)'/g;
  for (const file of [...files(join(root, 'views'), '.eta'), ...files(join(root, 'src', 'modules'), '.ts')]) {
    // A key ending in '.' is a prefix completed at run time (e.g. 'environment.platform.' + platform).
    for (const m of readFileSync(file, 'utf8').matchAll(literalKey)) if (!m[1]!.endsWith('.')) used.add(m[1]!);
  }
  assert.ok(used.size > 50, `found ${used.size} keys`);
  const missing = [...used].flatMap((key) => LOCALES.filter((l) => !i18n.has(l, key)).map((l) => `${l}: ${key}`));
  assert.deepEqual(missing, []);
});

test('both catalogues hold the same keys', () => {
  for (const messages of [platformMessages, ...moduleMessages]) {
    const zh = Object.keys(messages['zh-TW']).sort();
    const en = Object.keys(messages.en).sort();
    assert.deepEqual(zh.filter((k) => !en.includes(k)), [], 'keys only in zh-TW');
    assert.deepEqual(en.filter((k) => !zh.includes(k)), [], 'keys only in en');
  }
});
