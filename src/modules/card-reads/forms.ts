import { isSafeReturnPath, type CardReadPurpose } from './rules.js';
import type { ReadAnswer } from './service.js';

const field = (body: unknown, name: string): unknown => (body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined);

/** The agent page's POST: `assertion`, or `error` with the agent's code and the request's challenge. Anything else is an empty assertion (malformed). */
export function parseReadAnswer(body: unknown): ReadAnswer {
  const assertion = field(body, 'assertion');
  const error = field(body, 'error');
  const challenge = field(body, 'challenge');
  if (typeof assertion === 'string' && assertion) return { assertion };
  if (typeof error === 'string' && error) return { error, challenge: typeof challenge === 'string' ? challenge : '' };
  return { assertion: '' };
}

/** The 清除 form: which panel (one of the declared purposes), and the page to go back to. */
export function parseClearForm(body: unknown, purposes: ReadonlySet<CardReadPurpose>): { purpose: CardReadPurpose; returnTo: string } | null {
  const purpose = field(body, 'purpose');
  const returnTo = field(body, 'return');
  if (typeof purpose !== 'string' || !purposes.has(purpose) || !isSafeReturnPath(returnTo)) return null;
  return { purpose, returnTo };
}

/** Request ids are 24 random bytes in base64url: the wire format's. */
export { READ_REQUEST_ID } from '../../protocol/index.js';
