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

/** What an enrolment is refused for: a field's bad value, or an id enrolled before (revoked or not). */
export type TerminalEnrolmentProblem = 'terminal_id' | 'public_key' | 'label' | 'enrolled';

export class TerminalEnrolmentError extends Error {
  override name = 'TerminalEnrolmentError';

  /** `message` is for the command line; `problem` and `field` let a form say it beside the right input. */
  constructor(
    message: string,
    readonly problem: TerminalEnrolmentProblem,
    readonly field: 'terminalId' | 'publicKey' | 'label',
  ) {
    super(message);
  }
}

type EnrolInput = { terminalId: string; publicKey: string; label: string };
type Where = { clientAddress?: string };

/** Counter PCs allowed to sign card reads (an administrator enrols what `npm run agent -- enroll` prints). */
export class ReaderTerminals {
  constructor(private readonly deps: { orm: Orm; clock: Clock; audit: AuditLog }) {}

  /** Every problem of the input, in form order (empty when it may be enrolled, unless the id is taken). */
  problems(input: EnrolInput): TerminalEnrolmentError[] {
    const problems: TerminalEnrolmentError[] = [];
    if (!TERMINAL_ID.test(input.terminalId)) problems.push(new TerminalEnrolmentError('terminalId must look like T-1a2b3c4d', 'terminal_id', 'terminalId'));
    const keyProblem = publicKeyError(input.publicKey);
    if (keyProblem) problems.push(new TerminalEnrolmentError(`publicKey ${keyProblem}`, 'public_key', 'publicKey'));
    const label = input.label.trim();
    if (!label || label.length > 100) problems.push(new TerminalEnrolmentError('label must be 1 to 100 characters', 'label', 'label'));
    return problems;
  }

  /** Throws TerminalEnrolmentError for a malformed id or key, an empty label, or an id already enrolled. */
  async enroll(input: EnrolInput & { by?: string } & Where): Promise<TerminalInfo> {
    const label = input.label.trim();
    const [problem] = this.problems(input);
    if (problem) throw problem;
    const enrolledAt = this.deps.clock.now();
    await this.deps.orm.em.fork().transactional(async (em) => {
      if (await readerTerminals.find(em, input.terminalId)) {
        throw new TerminalEnrolmentError(`${input.terminalId} is already enrolled`, 'enrolled', 'terminalId');
      }
      readerTerminals.insert(em, { terminalId: input.terminalId, publicKey: input.publicKey, label, enrolledAt });
      this.deps.audit.record(em, {
        actorType: input.by ? 'staff' : 'system',
        actorId: input.by,
        action: 'reader_terminal.enroll',
        subject: input.terminalId,
        outcome: 'success',
        clientAddress: input.clientAddress,
        detail: { label },
      });
    });
    return { terminalId: input.terminalId, label, enrolledAt, revokedAt: null };
  }

  /** False when the terminal is unknown or already revoked. */
  async revoke(terminalId: string, by?: string, where: Where = {}): Promise<boolean> {
    return this.deps.orm.em.fork().transactional(async (em) => {
      const done = await readerTerminals.revoke(em, terminalId, this.deps.clock.now());
      if (done) {
        this.deps.audit.record(em, {
          actorType: by ? 'staff' : 'system',
          actorId: by,
          action: 'reader_terminal.revoke',
          subject: terminalId,
          outcome: 'success',
          clientAddress: where.clientAddress,
        });
      }
      return done;
    });
  }

  /** Every terminal, active and revoked, the newest enrolment first. */
  async list(): Promise<TerminalInfo[]> {
    const rows = await readerTerminals.list(this.deps.orm.em.fork());
    return rows.map((row) => ({ terminalId: row.terminalId, label: row.label, enrolledAt: row.enrolledAt, revokedAt: row.revokedAt ?? null }));
  }

  /** The public key of an enrolled, not revoked terminal; null otherwise. */
  async activeKey(terminalId: string): Promise<string | null> {
    const t = await readerTerminals.find(this.deps.orm.em.fork(), terminalId);
    return t && !t.revokedAt ? t.publicKey : null;
  }
}
