// Card readers: the simulated one and the common contract the HTTP layer uses.
import { setTimeout as delay } from 'node:timers/promises';
import { cardKid, type AgentError } from '../protocol/index.js';
import { CardDataError, encodeBasicData, parseReadResponse, type CardData } from './card-data.js';

/** The protocol's agent errors a read itself can end in ('busy' is the HTTP layer's). */
export type ReadErrorCode = Exclude<AgentError, 'busy'>;
export type StatusErrorCode = Extract<AgentError, 'pcsc_service_missing' | 'terminal_not_enrolled'>;

export class CardReadError extends Error {
  override name = 'CardReadError';
  constructor(readonly code: ReadErrorCode, message: string = code) {
    super(message);
  }
}

export interface ReaderStatus {
  reader: boolean;
  card: boolean;
  error?: StatusErrorCode;
  detail?: string; // for the operator, never shown to the page
}

/** A card read and the key that signs it. */
export interface SignedRead {
  card: CardData;
  seed: Uint8Array;
  kid: string;
}

export interface CardReader {
  readonly mode: 'sim' | 'pcsc';
  status(): Promise<ReaderStatus>;
  read(): Promise<SignedRead>;
}

/** The simulated card JSON of INTERFACES.md. */
export interface SimCard {
  cardNumber: string;
  idNumber: string;
  name: string;
  birthDate: string;
  sex: 'M' | 'F';
  issuedOn: string;
  privateKey: string; // base64url 32-byte Ed25519 seed
  /** Demo cards only: the holder's household registration, shown in the tray so the demo can be registered. */
  household?: { householdNumber: string; place: string; neighborhood: number };
}

const simToCardData = (c: SimCard): CardData => ({
  number: c.cardNumber,
  idNumber: c.idNumber,
  name: c.name,
  birthDate: c.birthDate,
  sex: c.sex,
  issuedOn: c.issuedOn,
});

/** Validates untrusted JSON as a simulated card; throws with a reason. */
export function parseSimCard(value: unknown): SimCard {
  if (typeof value !== 'object' || value === null) throw new Error('card must be a JSON object');
  const v = value as Record<string, unknown>;
  const fields = ['cardNumber', 'idNumber', 'name', 'birthDate', 'sex', 'issuedOn', 'privateKey'] as const;
  for (const f of fields) if (typeof v[f] !== 'string') throw new Error(`${f} must be a string`);
  const card = Object.fromEntries(fields.map((f) => [f, v[f]])) as unknown as SimCard;
  const h = v.household as Record<string, unknown> | undefined;
  if (h && typeof h.householdNumber === 'string' && typeof h.place === 'string' && typeof h.neighborhood === 'number') {
    card.household = { householdNumber: h.householdNumber, place: h.place, neighborhood: h.neighborhood };
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(card.privateKey) || Buffer.from(card.privateKey, 'base64url').length !== 32) {
    throw new Error('privateKey must be the base64url of a 32-byte Ed25519 seed');
  }
  try {
    encodeBasicData(simToCardData(card)); // the card must fit the real card's layout
  } catch (err) {
    throw new Error(err instanceof CardDataError ? err.message : 'invalid card');
  }
  return card;
}

/** A reader that always exists and holds at most one simulated card. */
export class SimCardReader implements CardReader {
  readonly mode = 'sim' as const;
  private inserted: SimCard | null = null;

  constructor(private readonly readDelayMs = 0) {}

  insert(card: SimCard): void {
    this.inserted = card;
  }

  remove(): void {
    this.inserted = null;
  }

  get current(): SimCard | null {
    return this.inserted;
  }

  async status(): Promise<ReaderStatus> {
    return { reader: true, card: this.inserted !== null };
  }

  async read(): Promise<SignedRead> {
    if (this.readDelayMs > 0) await delay(this.readDelayMs);
    const sim = this.inserted;
    if (!sim) throw new CardReadError('no_card');
    // The same bytes and status word a real card answers, through the same parser.
    const resp = Buffer.concat([encodeBasicData(simToCardData(sim)), Buffer.from([0x90, 0x00])]);
    const card = parseReadResponse(resp);
    return { card, seed: Buffer.from(sim.privateKey, 'base64url'), kid: cardKid(card.number) };
  }
}
