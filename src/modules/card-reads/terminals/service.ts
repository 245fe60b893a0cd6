import type { AuditLog } from '../../../platform/audit/index.js';
import type { Clock } from '../../../platform/clock.js';
import type { Orm } from '../../../platform/db/index.js';
import { TERMINAL_ID } from '../assertion.js';
import { readerTerminals } from './repository.js';
import { publicKeyError } from '../../cards/index.js';

export interface TerminalInfo {
  terminalId: string;
  label: string;
  enrolledAt: Date;
  revokedAt: Date | null;
}

export class TerminalEnrolmentError extends Error {
  override name = 'TerminalEnrolmentError';
}

/** Counter PCs allowed to sign card reads (an administrator enrols what `npm run agent -- enroll` prints). */
export class ReaderTerminals {
  constructor(private readonly deps: { orm: Orm; clock: Clock; audit: AuditLog }) {}

  /** Throws TerminalEnrolmentError for a malformed id or key, an empty label, or an id already enrolled. */
  async enroll(input: { terminalId: string; publicKey: string; label: string; by?: string }): Promise<TerminalInfo> {
    const label = input.label.trim();
    if (!TERMINAL_ID.test(input.terminalId)) throw new TerminalEnrolmentError('terminalId must look like T-1a2b3c4d');
    const keyProblem = publicKeyError(input.publicKey);
    if (keyProblem) throw new TerminalEnrolmentError(`publicKey ${keyProblem}`);
    if (!label || label.length > 100) throw new TerminalEnrolmentError('label must be 1 to 100 characters');
    const enrolledAt = this.deps.clock.now();
    await this.deps.orm.em.fork().transactional(async (em) => {
      if (await readerTerminals.find(em, input.terminalId)) throw new TerminalEnrolmentError(`${input.terminalId} is already enrolled`);
      readerTerminals.insert(em, { terminalId: input.terminalId, publicKey: input.publicKey, label, enrolledAt });
      this.deps.audit.record(em, {
        actorType: input.by ? 'staff' : 'system',
        actorId: input.by,
        action: 'reader_terminal.enroll',
        subject: input.terminalId,
        outcome: 'success',
        detail: { label },
      });
    });
    return { terminalId: input.terminalId, label, enrolledAt, revokedAt: null };
  }

  /** False when the terminal is unknown or already revoked. */
  async revoke(terminalId: string, by?: string): Promise<boolean> {
    return this.deps.orm.em.fork().transactional(async (em) => {
      const done = await readerTerminals.revoke(em, terminalId, this.deps.clock.now());
      if (done) {
        this.deps.audit.record(em, {
          actorType: by ? 'staff' : 'system',
          actorId: by,
          action: 'reader_terminal.revoke',
          subject: terminalId,
          outcome: 'success',
        });
      }
      return done;
    });
  }

  /** The public key of an enrolled, not revoked terminal; null otherwise. */
  async activeKey(terminalId: string): Promise<string | null> {
    const t = await readerTerminals.find(this.deps.orm.em.fork(), terminalId);
    return t && !t.revokedAt ? t.publicKey : null;
  }
}
