import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One message as the local mailbox keeps it (development only; SMTP_URL unset). */
export interface StoredMail {
  id: string;
  messageId: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  date: string;
  attachments: string[];
}

export type MailboxEntry = Pick<StoredMail, 'id' | 'date' | 'to' | 'subject'>;

/** Ids are generated here: milliseconds then random hex. Anything else is refused, so no path can be smuggled in. */
const ID = /^\d{13}-[0-9a-f]{8}$/;

export function isMailboxId(value: string): boolean {
  return ID.test(value);
}

/** A folder of JSON files, one per message, under DATA_DIR (never under public/). */
export class LocalMailbox {
  constructor(readonly dir: string) {}

  async write(mail: Omit<StoredMail, 'id'>): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const id = `${String(Date.now()).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
    const file = join(this.dir, `${id}.json`);
    // Write then rename, so a reader never sees half a message.
    await writeFile(`${file}.tmp`, JSON.stringify({ id, ...mail }, null, 2), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    return id;
  }

  private async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter(isMailboxId);
  }

  /** Newest first. */
  async list(): Promise<MailboxEntry[]> {
    const ids = (await this.ids()).sort().reverse();
    const entries: MailboxEntry[] = [];
    for (const id of ids) {
      const mail = await this.read(id);
      if (mail) entries.push({ id, date: mail.date, to: mail.to, subject: mail.subject });
    }
    return entries;
  }

  async read(id: string): Promise<StoredMail | undefined> {
    if (!isMailboxId(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as StoredMail;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Removes every message; returns how many. */
  async clear(): Promise<number> {
    const ids = await this.ids();
    for (const id of ids) await rm(join(this.dir, `${id}.json`), { force: true });
    return ids.length;
  }
}
