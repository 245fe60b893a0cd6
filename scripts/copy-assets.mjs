// Copies the pinned htmx 1.9 build from its npm package into public/js (never served from a CDN).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let source;
try {
  source = require.resolve('htmx.org/dist/htmx.min.js');
} catch {
  process.exit(0); // production install without the package: nothing to copy
}
const target = join(root, 'public', 'js', 'htmx.min.js');
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
if (!existsSync(target)) throw new Error('htmx was not copied');
