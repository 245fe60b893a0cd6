import type { Orm } from '../../platform/db/index.js';
import { CardSchema } from './entities/card.js';
import type { CardStatus } from './rules.js';

/** What the card registry says about a card. */
export interface CardRecord {
  cardNumber: string;
  idNumber: string;
  /** YYYY-MM-DD. */
  issuedOn: string;
  status: CardStatus;
  /** base64url of the raw 32-byte Ed25519 public key, or null for a card without one. */
  publicKey: string | null;
}

/** The card registry (imported from cards.csv). Only a `valid` card may register or log in. */
export class CardRegistry {
  constructor(private readonly orm: Orm) {}

  async findByNumber(cardNumber: string): Promise<CardRecord | null> {
    if (!/^\d{12}$/.test(cardNumber)) return null;
    const c = await this.orm.em.fork().findOne(CardSchema, { cardNumber });
    return c && { cardNumber: c.cardNumber, idNumber: c.idNumber, issuedOn: c.issuedOn, status: c.status, publicKey: c.publicKey ?? null };
  }

  /** The newest valid card of each person who has one (a bulk upload's batch). */
  async newestValidCards(idNumbers: readonly string[]): Promise<Map<string, CardRecord>> {
    if (!idNumbers.length) return new Map();
    // Plain rows, not entities: a bulk upload asks for thousands at a time.
    const cards = await this.orm.em.getConnection().execute<{ card_number: string; id_number: string; issued_on: string; public_key: string | null }[]>(
      `select distinct on (id_number) card_number, id_number, to_char(issued_on, 'YYYY-MM-DD') as issued_on, public_key
       from card where id_number = any(array[?]::text[]) and status = 'valid' order by id_number, issued_on desc, card_number desc`,
      [[...idNumbers]],
    );
    return new Map(cards.map((c) => [c.id_number, { cardNumber: c.card_number, idNumber: c.id_number, issuedOn: c.issued_on, status: 'valid' as const, publicKey: c.public_key }]));
  }

  /** The person's valid cards, the newest first (行動電話認證 matches one by its last four digits). */
  async validCardsOf(idNumber: string): Promise<CardRecord[]> {
    const cards = await this.orm.em.fork().find(CardSchema, { idNumber, status: 'valid' }, { orderBy: { issuedOn: 'desc', cardNumber: 'desc' } });
    return cards.map((c) => ({ cardNumber: c.cardNumber, idNumber: c.idNumber, issuedOn: c.issuedOn, status: c.status, publicKey: c.publicKey ?? null }));
  }
}
