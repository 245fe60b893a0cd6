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

  /** The person's valid cards, the newest first (行動電話認證 matches one by its last four digits). */
  async validCardsOf(idNumber: string): Promise<CardRecord[]> {
    const cards = await this.orm.em.fork().find(CardSchema, { idNumber, status: 'valid' }, { orderBy: { issuedOn: 'desc', cardNumber: 'desc' } });
    return cards.map((c) => ({ cardNumber: c.cardNumber, idNumber: c.idNumber, issuedOn: c.issuedOn, status: c.status, publicKey: c.publicKey ?? null }));
  }
}
