import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';

export interface ReceivedFile {
  /** The name the client gave (shown to people, never used as a path). */
  clientName: string;
  size: number;
}

export type Received =
  | { ok: true; fields: Record<string, string>; file: ReceivedFile }
  | { ok: false; problem: 'no_file' | 'too_large' | 'refused' | 'malformed'; fields: Record<string, string> };

/**
 * A multipart form with one file, streamed to `path` (a generated name) with at most `maxBytes`. The form's text
 * fields before the file are passed to `allow` when the file begins (its CSRF token): refused, nothing is written.
 * A file over the limit, or a broken body, leaves nothing on disk.
 */
export function receiveFile(req: Request, options: { path: string; maxBytes: number; fileField: string; allow(fields: Record<string, string>): boolean }): Promise<Received> {
  return new Promise((resolve) => {
    const fields: Record<string, string> = {};
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: options.maxBytes, fields: 20, fieldSize: 10_000 }, defParamCharset: 'utf8' });
    } catch {
      resolve({ ok: false, problem: 'malformed', fields });
      return;
    }
    let outcome: Received | undefined;
    let writing: Promise<void> | undefined;
    let file: ReceivedFile | undefined;
    const finish = async () => {
      await writing?.catch(() => {});
      const result: Received = outcome ?? (file ? { ok: true, fields, file } : { ok: false, problem: 'no_file', fields });
      if (!result.ok) await rm(options.path, { force: true });
      resolve(result);
    };
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== options.fileField || file || outcome) {
        stream.resume();
        return;
      }
      if (!options.allow(fields)) {
        outcome = { ok: false, problem: 'refused', fields };
        stream.resume();
        return;
      }
      const received: ReceivedFile = { clientName: info.filename ?? '', size: 0 };
      stream.on('data', (chunk: Buffer) => (received.size += chunk.length));
      stream.on('limit', () => (outcome = { ok: false, problem: 'too_large', fields }));
      writing = pipeline(stream, createWriteStream(options.path, { mode: 0o600 })).then(() => {
        // An empty file input (nothing chosen) arrives as a part without a name and without bytes.
        if (received.clientName || received.size) file = received;
      });
    });
    parser.on('close', () => void finish());
    parser.on('error', () => {
      outcome = { ok: false, problem: 'malformed', fields };
      void finish();
    });
    req.pipe(parser);
  });
}
