import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { passwordStrength, type PasswordStrength } from '../../src/platform/forms/index.js';
import { publicDir } from '../../src/platform/paths.js';

const script = readFileSync(join(publicDir, 'js', 'password-strength.js'), 'utf8');

test('all four classes and 8+ characters is strong (the seed\'s 強式密碼)', () => {
  assert.equal(passwordStrength('Abcd123!'), 'strong');
  assert.equal(passwordStrength('Zz9~Zz9~Zz9~'), 'strong');
  for (const symbol of '~!@#$%^&*') assert.equal(passwordStrength(`Abcd123${symbol}`), 'strong', symbol);
});

test('7 characters is one step below 8 for every mix of classes', () => {
  assert.equal(passwordStrength('Abc123!'), 'medium-strong');
  assert.equal(passwordStrength('Abcd123!'), 'strong');
  assert.equal(passwordStrength('Abcd123'), 'medium');
  assert.equal(passwordStrength('Abcd1234'), 'medium-strong');
  assert.equal(passwordStrength('abc1234'), 'medium');
  assert.equal(passwordStrength('abcd1234'), 'medium');
});

test('a strong password with any one class missing is medium-strong', () => {
  assert.equal(passwordStrength('ABCD123!'), 'medium-strong', 'no lower case');
  assert.equal(passwordStrength('abcd123!'), 'medium-strong', 'no upper case');
  assert.equal(passwordStrength('Abcdefg!'), 'medium-strong', 'no digit');
  assert.equal(passwordStrength('Abcd1234'), 'medium-strong', 'no symbol');
});

test('two classes is medium, one class is weak, however long', () => {
  assert.equal(passwordStrength('abc123'), 'medium');
  assert.equal(passwordStrength('ABC!!!'), 'medium');
  assert.equal(passwordStrength('abcdefghijkl'), 'weak');
  assert.equal(passwordStrength('123456789012'), 'weak');
  assert.equal(passwordStrength('!@#$%^&*'), 'weak');
  assert.equal(passwordStrength(''), 'weak');
});

test('only ~!@#$%^&* count as symbols', () => {
  assert.equal(passwordStrength('Abcd123-'), 'medium-strong');
  assert.equal(passwordStrength('Abcd123_'), 'medium-strong');
  assert.equal(passwordStrength('Abcd123中'), 'medium-strong');
  assert.equal(passwordStrength('abcdef-_'), 'weak');
});

// --- the same file run as the page runs it ---

class FakeElement {
  attributes = new Map<string, string>();
  listeners = new Map<string, Array<() => void>>();
  textContent = '';
  value = '';
  constructor(attributes: Record<string, string>) {
    for (const [k, v] of Object.entries(attributes)) this.attributes.set(k, v);
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, String(value));
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
  addEventListener(type: string, fn: () => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  type(value: string, event: 'input' | 'keyup' = 'input'): void {
    this.value = value;
    for (const fn of this.listeners.get(event) ?? []) fn();
  }
}

function loadPage() {
  const output = new FakeElement({
    id: 'password-strength',
    'data-label-weak': '弱',
    'data-label-medium': '中',
    'data-label-medium-strong': '中強',
    'data-label-strong': '強',
  });
  const input = new FakeElement({ 'data-strength-output': 'password-strength' });
  const docListeners = new Map<string, Array<(e?: unknown) => void>>();
  const document = {
    readyState: 'loading',
    addEventListener: (type: string, fn: () => void) => docListeners.set(type, [...(docListeners.get(type) ?? []), fn]),
    querySelectorAll: (selector: string) => (selector === 'input[data-strength-output]' ? [input] : []),
    getElementById: (id: string) => (id === output.getAttribute('id') ? output : null),
  };
  const window: Record<string, unknown> = { document };
  runInNewContext(script, { window, document }, { filename: 'password-strength.js' });
  const fire = (type: string, event?: unknown) => (docListeners.get(type) ?? []).forEach((fn) => fn(event));
  return { window, input, output, fire };
}

test('the browser global gives the same answer as the server for every password', () => {
  const { window } = loadPage();
  const browser = window.nhiPasswordStrength as { strength(p: string): PasswordStrength };
  const passwords = ['', 'a', 'abcdef', 'abc123', 'Abc123', 'Abc123!', 'Abc1234', 'Abcd123!', 'ABCD123!', 'abcd123!',
    'Abcdefg!', 'Abcd1234', '!@#$%^&*', 'Aa1~', 'Aa1~Aa1~', 'Abcd123-', '密碼Abc123!', 'aaaaaaaaaaaa'];
  for (const p of passwords) assert.equal(browser.strength(p), passwordStrength(p), JSON.stringify(p));
});

test('on the page, typing writes the label in the page\'s language and the level', () => {
  const { input, output, fire } = loadPage();
  input.type('abc');
  assert.equal(output.textContent, '', 'nothing is wired before DOMContentLoaded');
  fire('DOMContentLoaded');

  input.type('abcdef');
  assert.equal(output.textContent, '弱');
  assert.equal(output.getAttribute('data-strength'), 'weak');
  input.type('abc123', 'keyup');
  assert.equal(output.textContent, '中');
  assert.equal(output.getAttribute('data-strength'), 'medium');
  input.type('Abcd1234');
  assert.equal(output.textContent, '中強');
  assert.equal(output.getAttribute('data-strength'), 'medium-strong');
  input.type('Abcd123!');
  assert.equal(output.textContent, '強');
  assert.equal(output.getAttribute('data-strength'), 'strong');
  input.type('');
  assert.equal(output.textContent, '');
  assert.equal(output.getAttribute('data-strength'), null);
});

test('an HTMX swap that re-announces the same input does not bind it twice', () => {
  const { input, fire } = loadPage();
  fire('DOMContentLoaded');
  fire('htmx:load', { target: { querySelectorAll: () => [input] } });
  assert.equal(input.listeners.get('input')?.length, 1);
  assert.equal(input.listeners.get('keyup')?.length, 1);
});
