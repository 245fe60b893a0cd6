// The reader agent ↔ server wire format (READER-AGENT.md), written once for both sides: no imports at all.

/** The card's basic data as it travels in the assertion. */
export interface CardReadCard {
  number: string; // 12-digit card number
  idNumber: string;
  name: string;
  birthDate: string; // YYYY-MM-DD
  sex: 'M' | 'F';
  issuedOn: string; // YYYY-MM-DD
}

/** The signed payload of the agent's compact JWS (EdDSA); the header's kid names the key. */
export interface CardAssertionPayload {
  v: 1;
  req: string;
  challenge: string;
  aud: string; // the server origin the agent checked: Origin of the request = origin of the return URL
  iat: number; // seconds
  card: CardReadCard;
}

export const CARD_NUMBER = /^[0-9]{12}$/;
export const ID_NUMBER = /^[A-Z][A-Z0-9][0-9]{8}$/;
export const TERMINAL_ID = /^T-[0-9a-f]{8}$/;
/** Request ids are 24 random bytes in base64url. */
export const READ_REQUEST_ID = /^[A-Za-z0-9_-]{32}$/;
/** Challenges are base64url of at least 32 random bytes. */
export const READ_CHALLENGE = /^[A-Za-z0-9_-]{43,512}$/;
/** The server path that receives the agent's answer: `/card-reads/<req>`. */
export const CARD_READ_RETURN_PATH = /^\/card-reads\/[A-Za-z0-9_-]{32}$/;
export const cardReadReturnPath = (req: string): string => `/card-reads/${req}`;

/** Which key signed: a card's own key or an enrolled counter terminal's. */
export type Signer = { kind: 'card'; cardNumber: string } | { kind: 'terminal'; terminalId: string };

export const cardKid = (cardNumber: string): string => `card:${cardNumber}`;
export const terminalKid = (terminalId: string): string => `terminal:${terminalId}`;

/** `card:<12 digits>` or `terminal:T-<8 hex>`; anything else is null. */
export function parseKid(kid: string): Signer | null {
  const card = /^card:([0-9]{12})$/.exec(kid);
  if (card) return { kind: 'card', cardNumber: card[1]! };
  const terminal = /^terminal:(.+)$/.exec(kid);
  if (terminal && TERMINAL_ID.test(terminal[1]!)) return { kind: 'terminal', terminalId: terminal[1]! };
  return null;
}

/** Errors the reader agent reports instead of an assertion. */
export const AGENT_ERRORS = ['no_reader', 'no_card', 'card_unreadable', 'pcsc_service_missing', 'terminal_not_enrolled', 'busy'] as const;
export type AgentError = (typeof AGENT_ERRORS)[number];
export const isAgentError = (v: unknown): v is AgentError => typeof v === 'string' && (AGENT_ERRORS as readonly string[]).includes(v);
