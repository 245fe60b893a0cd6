import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The project folder (the one holding package.json), whether running from src/ with tsx or from dist/. */
function findAppRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

export const appRoot = findAppRoot(here);
/** True when running the compiled build (dist/), false under tsx. */
export const isCompiled = import.meta.url.endsWith('.js');
/** Where compiled-or-source code lives: dist/ when compiled, the project root otherwise. */
export const codeRoot = isCompiled ? join(appRoot, 'dist') : appRoot;
export const viewsDir = join(appRoot, 'views');
export const publicDir = join(appRoot, 'public');
export const dataFilesDir = join(appRoot, 'data');
export const migrationsDir = join(codeRoot, 'migrations');
