/**
 * The installation's demo secret, `$DATA_DIR/demo-secret`: 32 random bytes, created (mode 0600) on first use.
 * Demo card keys derive from it, so the repository alone lets nobody sign as another installation's demo card.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO_SECRET_FILE = 'demo-secret';
const SECRET_BYTES = 32;

/** Reads the demo secret of `dataDir`, creating it first if there is none. */
export function demoSecret(dataDir: string): Buffer {
  const path = join(dataDir, DEMO_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(path)) {
    // Written aside then linked: a process racing this one sees either no file or the whole secret, never half.
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temp, `${randomBytes(SECRET_BYTES).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A file system without hard links: create it in place, exclusively.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') writeIfAbsent(path, readFileSync(temp));
      else if (code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temp);
    }
  }
  // Tighten a copy restored with looser permissions (POSIX modes only).
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
  if (secret.length !== SECRET_BYTES) throw new Error(`${path} must hold ${SECRET_BYTES} bytes in base64url; delete it to make a new one`);
  return secret;
}

function writeIfAbsent(path: string, data: Buffer): void {
  try {
    writeFileSync(path, data, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
