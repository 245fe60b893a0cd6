// The terminal key: the Ed25519 key a counter PC signs real (PC/SC) card reads with.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TERMINAL_ID } from '../protocol/index.js';
import { cardKeyPairFromSeed, generateSeed } from './assertion.js';

export interface TerminalKey {
  terminalId: string;
  seed: Buffer;
  publicKey: string; // raw base64url, what the administrator registers
}

interface TerminalKeyFile {
  terminalId: string;
  privateKey: string;
  publicKey: string;
  createdAt: string;
}

export const defaultDataDir = (): string => process.env.DATA_DIR || '.data';
export const defaultTerminalKeyFile = (): string => join(defaultDataDir(), 'agent', 'terminal-key.json');

export class TerminalKeyExistsError extends Error {
  override name = 'TerminalKeyExistsError';
}

/** Loads the enrolled key; null when there is none. A damaged file is an error, not "not enrolled". */
export async function loadTerminalKey(file: string): Promise<TerminalKey | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const data = JSON.parse(text) as Partial<TerminalKeyFile>;
  const seed = Buffer.from(String(data.privateKey ?? ''), 'base64url');
  if (!TERMINAL_ID.test(String(data.terminalId)) || seed.length !== 32) {
    throw new Error(`terminal key file ${file} is malformed`);
  }
  const { publicKey } = cardKeyPairFromSeed(seed);
  if (data.publicKey !== undefined && data.publicKey !== publicKey) {
    throw new Error(`terminal key file ${file}: public key does not match the private key`);
  }
  return { terminalId: String(data.terminalId), seed, publicKey };
}

/** Creates the key file (mode 0600); refuses to replace an existing one unless `force`. */
export async function enrollTerminal(options: { keyFile: string; force?: boolean }): Promise<TerminalKey & { keyFile: string }> {
  const seed = generateSeed();
  const terminalId = `T-${randomBytes(4).toString('hex')}`;
  const { publicKey } = cardKeyPairFromSeed(seed);
  const content: TerminalKeyFile = {
    terminalId,
    privateKey: seed.toString('base64url'),
    publicKey,
    createdAt: new Date().toISOString(),
  };
  await mkdir(dirname(options.keyFile), { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails atomically when the file exists, so two enrolments cannot race.
    await writeFile(options.keyFile, JSON.stringify(content, null, 2) + '\n', {
      mode: 0o600,
      flag: options.force ? 'w' : 'wx',
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TerminalKeyExistsError(`${options.keyFile} already exists; use --force to replace it`);
    }
    throw err;
  }
  await chmod(options.keyFile, 0o600); // an overwritten file keeps its old mode otherwise
  return { terminalId, seed, publicKey, keyFile: options.keyFile };
}
