import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { idNumberError } from '../household/index.js';

/** What the operators say of a number and a person (seed 004 Q9); only `postpaid` may register. */
export const TELECOM_ANSWERS = ['postpaid', 'prepaid', 'corporate', 'family_plan', 'mvno', 'suspended', 'not_owner', 'unknown_operator'] as const;
export type TelecomAnswer = (typeof TELECOM_ANSWERS)[number];

/**
 * 行動電話認證's check with the telecom operators: whether this person holds this number on a personal monthly plan.
 * The simulated one below serves development and tests; production's adapter implements the same interface.
 */
export interface TelecomOperator {
  check(mobile: string, idNumber: string): Promise<TelecomAnswer>;
}

const SIM_KINDS = ['postpaid', 'prepaid', 'corporate', 'family_plan', 'mvno', 'suspended'] as const;
const simEntry = z.object({
  mobile: z.string().regex(/^09\d{8}$/, 'mobile must be 09 and 8 digits'),
  idNumber: z.string().refine((v) => idNumberError(v) === undefined, 'idNumber is not a valid ID number'),
  kind: z.enum(SIM_KINDS),
});

/** TELECOM_SIM_FILE's numbers: a listed number answers its kind for its holder; any other pair is `not_owner`. */
export class SimulatedTelecom implements TelecomOperator {
  private readonly numbers: Map<string, { idNumber: string; kind: TelecomAnswer }>;

  constructor(entries: readonly z.infer<typeof simEntry>[] = []) {
    this.numbers = new Map(entries.map((e) => [e.mobile, { idNumber: e.idNumber, kind: e.kind }]));
  }

  /** Reads and checks the file once; a missing or malformed file throws naming it, so the start stops. */
  static fromFile(path: string): SimulatedTelecom {
    const fail = (why: string): never => {
      throw new Error(`TELECOM_SIM_FILE ${path}: ${why}`);
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      return fail(err instanceof SyntaxError ? `not JSON (${err.message})` : `cannot be read (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed)) return fail('must be a JSON array of {"mobile","idNumber","kind"}');
    const entries = parsed.map((item, i) => {
      const entry = simEntry.safeParse(item);
      if (!entry.success) fail(`entry ${i + 1}: ${entry.error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`).join('; ')}`);
      return entry.data!;
    });
    const seen = new Set<string>();
    for (const [i, e] of entries.entries()) {
      if (seen.has(e.mobile)) fail(`entry ${i + 1}: ${e.mobile} is listed twice`);
      seen.add(e.mobile);
    }
    return new SimulatedTelecom(entries);
  }

  async check(mobile: string, idNumber: string): Promise<TelecomAnswer> {
    const entry = this.numbers.get(mobile);
    return entry && entry.idNumber === idNumber ? entry.kind : 'not_owner';
  }
}
