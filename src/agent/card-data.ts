// The NHI card's basic data file (57 bytes) and its one parser, used for real and simulated cards alike.
import iconv from 'iconv-lite';
import { CARD_NUMBER, ID_NUMBER, type CardReadCard } from '../protocol/index.js';

/** What the card holds is what the assertion carries. */
export type CardData = CardReadCard;
export type Sex = CardData['sex'];

/** Thrown when the card's answer cannot be understood; the read then fails with `card_unreadable`. */
export class CardDataError extends Error {
  override name = 'CardDataError';
}

export const BASIC_DATA_LENGTH = 57;

const NAME_BYTES = 20;

// Node's TextDecoder('big5') silently drops HKSCS bytes such as FB69 (堃), so decoding uses iconv-lite's
// big5 (CP950 plus the HKSCS extension, like the WHATWG big5 decoder), which keeps rare name characters.
const BIG5 = 'big5';

const ascii = (bytes: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...bytes.subarray(from, to));

function decodeName(raw: Uint8Array): string {
  const end = raw.indexOf(0);
  const text = iconv.decode(Buffer.from(raw.subarray(0, end < 0 ? raw.length : end)), BIG5).trimEnd();
  if (!text) throw new CardDataError('name is empty');
  // U+FFFD marks bytes that are not Big5; control characters never belong in a name.
  if (/[\uFFFD\u0000-\u001F\u007F]/u.test(text)) throw new CardDataError('name is not valid Big5');
  return text;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // overflowing months/days roll over and fail the check below
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/*
 * ROC dates (yyyMMdd, 7 ASCII characters). The year field is the signed ROC year: Gregorian year − 1911,
 * so 001 = 1912 (民國元年) and 000 = 1911 (民前1年). Earlier years are negative and written with a minus
 * sign in the first position, two digits after it: -01 = 1910 (民前2年) … -99 = 1812. This is the
 * plain arithmetic ROC software uses for 民前 years stored as numbers; one rule (year = field + 1911)
 * then covers every date, both ways.
 */
const ROC_DATE = /^(-[0-9]{2}|[0-9]{3})([0-9]{2})([0-9]{2})$/;
const ROC_OFFSET = 1911;

export function rocToIso(roc: string): string {
  const m = ROC_DATE.exec(roc);
  if (!m) throw new CardDataError(`malformed ROC date ${JSON.stringify(roc)}`);
  const year = Number(m[1]) + ROC_OFFSET;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (!isCalendarDate(year, month, day)) throw new CardDataError(`no such date ${roc}`);
  return `${year}-${m[2]}-${m[3]}`;
}

export function isoToRoc(iso: string): string {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(iso);
  if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw new CardDataError(`invalid date ${iso}`);
  const roc = Number(m[1]) - ROC_OFFSET;
  if (roc < -99 || roc > 999) throw new CardDataError(`date ${iso} does not fit a ROC yyyMMdd field`);
  const year = roc < 0 ? `-${String(-roc).padStart(2, '0')}` : String(roc).padStart(3, '0');
  return `${year}${m[2]}${m[3]}`;
}

/** Parses the 57 data bytes of the basic data file. */
export function parseBasicData(bytes: Uint8Array): CardData {
  if (bytes.length !== BASIC_DATA_LENGTH) {
    throw new CardDataError(`basic data has ${bytes.length} bytes, expected ${BASIC_DATA_LENGTH}`);
  }
  const number = ascii(bytes, 0, 12);
  if (!CARD_NUMBER.test(number)) throw new CardDataError('malformed card number');
  const name = decodeName(bytes.subarray(12, 32));
  const idNumber = ascii(bytes, 32, 42);
  if (!ID_NUMBER.test(idNumber)) throw new CardDataError('malformed ID number');
  const birthDate = rocToIso(ascii(bytes, 42, 49));
  const sex = ascii(bytes, 49, 50);
  if (sex !== 'M' && sex !== 'F') throw new CardDataError('malformed sex');
  const issuedOn = rocToIso(ascii(bytes, 50, 57));
  return { number, idNumber, name, birthDate, sex, issuedOn };
}

export const statusWord = (resp: Uint8Array): string =>
  Buffer.from(resp.subarray(resp.length - 2)).toString('hex').toUpperCase();

/** Parses a full READ response APDU: 57 data bytes followed by the status word 90 00. */
export function parseReadResponse(resp: Uint8Array): CardData {
  if (resp.length < 2) throw new CardDataError('response has no status word');
  const sw = statusWord(resp);
  if (sw !== '9000') throw new CardDataError(`card answered status ${sw.slice(0, 2)} ${sw.slice(2)}`);
  return parseBasicData(resp.subarray(0, resp.length - 2));
}

/** Builds the 57 bytes a real card holds, so simulated reads go through the same parser. */
export function encodeBasicData(card: CardData): Uint8Array {
  if (!CARD_NUMBER.test(card.number)) throw new CardDataError('malformed card number');
  if (!ID_NUMBER.test(card.idNumber)) throw new CardDataError('malformed ID number');
  if (card.sex !== 'M' && card.sex !== 'F') throw new CardDataError('malformed sex');
  const name = iconv.encode(card.name, BIG5);
  if (!card.name || card.name !== card.name.trim() || card.name.includes('\0') || iconv.decode(name, BIG5) !== card.name) {
    throw new CardDataError('name cannot be written in Big5');
  }
  if (name.length > NAME_BYTES) throw new CardDataError(`name takes ${name.length} bytes in Big5, at most ${NAME_BYTES}`);
  const out = new Uint8Array(BASIC_DATA_LENGTH); // zero-filled: the name's padding
  out.set(Buffer.from(card.number, 'ascii'), 0);
  out.set(name, 12);
  out.set(Buffer.from(card.idNumber, 'ascii'), 32);
  out.set(Buffer.from(isoToRoc(card.birthDate), 'ascii'), 42);
  out.set(Buffer.from(card.sex, 'ascii'), 49);
  out.set(Buffer.from(isoToRoc(card.issuedOn), 'ascii'), 50);
  return out;
}
