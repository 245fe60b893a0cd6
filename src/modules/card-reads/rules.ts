// Rules of the card read (READER-AGENT.md): purposes, failure codes, what a return path may be.
import iconv from 'iconv-lite';

/** How long a card-read request may be answered. */
export const READ_REQUEST_TTL_MS = 5 * 60 * 1000;
/** Expired rows are kept this long, so a late answer hears "expired" rather than "unknown". */
export const READ_REQUEST_KEEP_MS = 60 * 60 * 1000;
/** How far an assertion's iat may lie ahead of our clock, and how old it may be. */
export const IAT_FUTURE_S = 60;
export const IAT_PAST_S = 5 * 60;

/**
 * The flow that asked for a card read (each keeps its own read in the session): one of those the modules declare
 * (ModuleDefinition.cardReadPurposes), a short lower-case word.
 */
export type CardReadPurpose = string;
export const CARD_READ_PURPOSE = /^[a-z][a-z-]{0,19}$/;

/** Errors the reader agent reports instead of an assertion: the wire format's own list. */
import type { AgentError } from '../../protocol/index.js';
export { AGENT_ERRORS, isAgentError, type AgentError } from '../../protocol/index.js';

/** Why the server refused an assertion (or a claim), shown on the page that asked. */
export type VerifyFailure =
  | 'malformed'
  | 'invalid_signature'
  | 'unknown_card'
  | 'void_card'
  | 'card_mismatch'
  | 'wrong_audience'
  | 'expired'
  | 'replayed'
  | 'registry_unavailable'
  | 'other_person'
  /** Another browser tried to claim the read first: it is void for everyone. */
  | 'claimed_elsewhere';
export type CardReadFailure = AgentError | VerifyFailure;

/** Answers that concern the request itself (not the page's flow): a page of their own, no redirect. */
export type CardReadRefusal = 'unknown_request' | 'replayed' | 'expired' | 'not_read' | 'other_session';

export const failureMessageKey = (f: CardReadFailure): string => `cardRead.failure.${f}`;
export const refusalMessageKey = (r: CardReadRefusal): string => `cardRead.refused.${r}`;

/**
 * A path on this server to come back to: starts with one '/', no '\' (browsers read '/\' as '//'),
 * no whitespace or control characters.
 */
export function isSafeReturnPath(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 500 && /^\/(?![/\\])[^\\\s\u0000-\u001f\u007f]*$/.test(value);
}

/** 000012345678 → 0000****5678, for audit rows. */
export const maskCardNumber = (n: string): string => (n.length === 12 ? `${n.slice(0, 4)}****${n.slice(8)}` : '****');

const NAME_BYTES = 20;

/**
 * The card's name field holds 20 Big5 bytes: a longer registered name is cut on the card, so the card
 * name matches when it equals the registered name or its longest prefix that fits.
 */
export function cardNameMatches(cardName: string, registeredName: string): boolean {
  if (cardName === registeredName) return true;
  const chars = Array.from(registeredName);
  if (iconv.encode(registeredName, 'big5').length <= NAME_BYTES) return false;
  let prefix = '';
  for (const c of chars) {
    if (iconv.encode(prefix + c, 'big5').length > NAME_BYTES) break;
    prefix += c;
  }
  return cardName === prefix.trimEnd();
}
