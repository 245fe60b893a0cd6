import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { parse, type Node } from 'acorn';
import postcss, { type Declaration, type Node as CssNode, type Result, type Root } from 'postcss';
import { publicDir } from '../../src/platform/paths.js';

// doiuse keeps its .d.ts files outside its exports map, where TypeScript does not look: the little we use is typed here.
const doiuse = createRequire(import.meta.url)('doiuse') as (options: {
  browsers: string[];
  onFeatureUsage: (found: { feature: string; usage: CssNode; message: string }) => void;
}) => { postcss(root: Root, result: Result): void | Promise<void> };

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : path.endsWith(ext) ? [path] : [];
  });
}

// htmx 1.9.12 (the pinned vendor build, copied in by `npm install`) is not ES5: it has 1 `let` and 3 `const`
// declarations, which IE 11 runs. It is held to "ES5 plus let/const" below instead of the ES5 parse.
const VENDOR_LET_CONST = ['htmx.min.js'];

test('every script under public/js is plain ES5 (IE 11 parses it)', () => {
  const scripts = files(join(publicDir, 'js'), '.js').filter((f) => !VENDOR_LET_CONST.includes(relative(join(publicDir, 'js'), f)));
  assert.ok(scripts.some((f) => f.endsWith('password-strength.js')), 'password-strength.js is checked');
  const failures: string[] = [];
  for (const file of scripts) {
    try {
      parse(readFileSync(file, 'utf8'), { ecmaVersion: 5, sourceType: 'script' });
    } catch (error) {
      failures.push(`${relative(publicDir, file)}: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});

/** Syntax newer than ES5 in a parsed script, one line per use ("let/const" reported as such). */
function post5Syntax(ast: Node): string[] {
  const es5 = new Set(['Program', 'ExpressionStatement', 'BlockStatement', 'EmptyStatement', 'DebuggerStatement',
    'WithStatement', 'ReturnStatement', 'LabeledStatement', 'BreakStatement', 'ContinueStatement', 'IfStatement',
    'SwitchStatement', 'SwitchCase', 'ThrowStatement', 'TryStatement', 'CatchClause', 'WhileStatement',
    'DoWhileStatement', 'ForStatement', 'ForInStatement', 'FunctionDeclaration', 'VariableDeclaration',
    'VariableDeclarator', 'ThisExpression', 'ArrayExpression', 'ObjectExpression', 'Property', 'FunctionExpression',
    'UnaryExpression', 'UpdateExpression', 'BinaryExpression', 'AssignmentExpression', 'LogicalExpression',
    'MemberExpression', 'ConditionalExpression', 'CallExpression', 'NewExpression', 'SequenceExpression',
    'Identifier', 'Literal']);
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object' || typeof (node as { type?: unknown }).type !== 'string') return;
    const n = node as Node & Record<string, unknown>;
    if (!es5.has(n.type)) found.push(`${n.type} at ${n.start}`);
    else if (n.type === 'VariableDeclaration' && n.kind !== 'var') found.push(`let/const at ${n.start}`);
    else if (n.type === 'Property' && (n.method || n.shorthand || n.computed || n.kind !== 'init' && n.kind !== 'get' && n.kind !== 'set')) found.push(`ES2015 property at ${n.start}`);
    else if ((n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression') && (n.generator || n.async)) found.push(`generator/async at ${n.start}`);
    else if (n.type === 'Literal' && (n.regex && /[uys]/.test((n.regex as { flags: string }).flags) || 'bigint' in n)) found.push(`ES2015+ literal at ${n.start}`);
    for (const [key, value] of Object.entries(n)) if (key !== 'loc') visit(value);
  };
  visit(ast);
  return found;
}

test('the vendored htmx uses nothing past ES5 but let/const, which IE 11 supports', () => {
  for (const name of VENDOR_LET_CONST) {
    const file = join(publicDir, 'js', name);
    assert.ok(existsSync(file), `${name} is missing: npm install copies it in`);
    const ast = parse(readFileSync(file, 'utf8'), { ecmaVersion: 'latest', sourceType: 'script' });
    assert.deepEqual(post5Syntax(ast).filter((s) => !s.startsWith('let/const')), [], name);
  }
});

/** The declaration is the -ms- form, or its rule also has the -ms- form (`display: -ms-flexbox`, `-ms-flex`). */
function hasMsTwin(d: Declaration): boolean {
  if (d.prop.startsWith('-ms-') || d.value.startsWith('-ms-')) return true;
  const siblings = d.parent?.nodes ?? [];
  return siblings.some((n) => n.type === 'decl' && (n.prop === `-ms-${d.prop}` || (n.prop === d.prop && n.value.startsWith('-ms-'))));
}

/**
 * Findings of doiuse that are not IE 11 problems, each with why. `when` narrows an entry to the declarations it
 * is true of, so a new use of the same feature is still reported.
 */
const IE11_ALLOWED: Array<{ feature: string; why: string; when?: (d: Declaration) => boolean }> = [
  { feature: 'flexbox', why: 'IE 11 lays flexbox out (caniuse: partial for its bugs) as long as the -ms- 2012 syntax is there too', when: hasMsTwin },
  { feature: 'outline', why: 'IE 11 draws outlines and lacks only outline-offset, which we set to 0, its initial value', when: (d) => d.prop === 'outline' },
  { feature: 'css-overflow', why: 'partial = no two-value syntax or overflow:clip; a single hidden is CSS 2', when: (d) => d.value === 'hidden' },
  { feature: 'mdn-text-decoration-shorthand', why: 'the CSS 3 shorthand; `text-decoration: none` is CSS 2 and works', when: (d) => d.value === 'none' },
  { feature: 'prefers-reduced-motion', why: 'IE 11 ignores the media query: it only stops the marquee where a person asked for less motion' },
];

test('the stylesheets use nothing IE 11 lacks', async () => {
  const sheets = files(join(publicDir, 'css'), '.css');
  assert.ok(sheets.length > 0);
  const problems: string[] = [];
  for (const file of sheets) {
    const plugin = doiuse({
      browsers: ['ie 11'],
      onFeatureUsage: ({ feature, usage, message }) => {
        const allowed = IE11_ALLOWED.find(
          (a) => a.feature === feature && (!a.when || (usage.type === 'decl' && a.when(usage as Declaration))),
        );
        if (!allowed) problems.push(message);
      },
    });
    await postcss([plugin]).process(readFileSync(file, 'utf8'), { from: file });
  }
  assert.deepEqual(problems, [], `features IE 11 does not support:\n${problems.join('\n')}`);
});
