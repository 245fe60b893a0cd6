/**
 * Taiwan personal ID numbers: the national ID (國民身分證統一編號) and both formats of the resident
 * certificate number (外來人口統一證號).
 *
 * All three are 10 characters: an area letter, a second character, 7 serial digits and a check digit.
 * The area letter becomes a two-digit code (A=10 … H=17, I=34, J=18 … N=22, O=35, P=23 … V=29, W=32, X=30,
 * Y=31, Z=33). Those two digits and the next 9 values are multiplied by 1,9,8,7,6,5,4,3,2,1,1; the number is
 * valid when the sum is a multiple of 10.
 * - national ID `A123456789`: second character 1 (male) or 2 (female);
 * - new resident certificate (from 2021) `A812345671`: second character 8 (male) or 9 (female), same check;
 * - old resident certificate `FA12345689`: second character a letter A–D (A/B issued by the immigration
 *   agency, C/D by the police; A/C male, B/D female). That letter is turned into its two-digit code like the
 *   area letter and only the LAST digit is used (A=10→0, B=11→1, C=12→2, D=13→3), weighted 8 like the second
 *   character of the other formats. The Ministry of the Interior's own example: FA12345689 → F=15, A→0:
 *   1·1+5·9+0·8+1·7+2·6+3·5+4·4+5·3+6·2+8·1+9·1 = 140.
 */

export type IdNumberKind = 'national' | 'resident-new' | 'resident-old';

const LETTER_CODES: Record<string, number> = {
  A: 10, B: 11, C: 12, D: 13, E: 14, F: 15, G: 16, H: 17, I: 34, J: 18, K: 19, L: 20, M: 21,
  N: 22, O: 35, P: 23, Q: 24, R: 25, S: 26, T: 27, U: 28, V: 29, W: 32, X: 30, Y: 31, Z: 33,
};
const WEIGHTS_AFTER_LETTER = [8, 7, 6, 5, 4, 3, 2, 1, 1];

/** The second character's value in the weighted sum. */
function secondValue(c: string): number {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  return LETTER_CODES[c]! % 10;
}

/** Weighted sum over the whole 10-character number (assumed well-formed). */
function weightedSum(id: string): number {
  const code = LETTER_CODES[id[0]!]!;
  let sum = Math.floor(code / 10) + (code % 10) * 9 + secondValue(id[1]!) * WEIGHTS_AFTER_LETTER[0]!;
  for (let i = 2; i < 10; i++) sum += (id.charCodeAt(i) - 48) * WEIGHTS_AFTER_LETTER[i - 1]!;
  return sum;
}

/** Which kind of number this is, judged by its shape alone (no check digit), or undefined. */
export function idNumberKind(id: string): IdNumberKind | undefined {
  if (!/^[A-Z][1289A-D]\d{8}$/.test(id)) return undefined;
  const second = id[1]!;
  if (second === '1' || second === '2') return 'national';
  if (second === '8' || second === '9') return 'resident-new';
  return 'resident-old';
}

/** Why `id` is not a valid national ID or resident certificate number, or undefined when it is. */
export function idNumberError(id: string): string | undefined {
  const length = [...id].length; // characters, as the import's SQL twin counts them
  if (length !== 10) return `must be 10 characters (found ${length})`;
  if (!/^[A-Z]$/.test(id[0]!)) return 'must begin with an uppercase letter A–Z';
  if (!/^[1289A-D]$/.test(id[1]!))
    return 'second character must be 1 or 2 (national ID), 8 or 9 (resident certificate) or A–D (old resident certificate)';
  if (!/^\d{8}$/.test(id.slice(2))) return 'the last 8 characters must be digits';
  if (weightedSum(id) % 10 !== 0) return 'wrong check digit';
  return undefined;
}

export function isValidIdNumber(id: string): boolean {
  return idNumberError(id) === undefined;
}

/** The check digit that completes a 9-character prefix (area letter, second character, 7 digits). */
export function idCheckDigit(prefix: string): string {
  const sum = weightedSum(`${prefix}0`);
  return String((10 - (sum % 10)) % 10);
}

/** Sex as the number encodes it (all three formats carry it in the second character). */
export function sexOfIdNumber(id: string): 'M' | 'F' | undefined {
  const c = id[1];
  if (c === '1' || c === '8' || c === 'A' || c === 'C') return 'M';
  if (c === '2' || c === '9' || c === 'B' || c === 'D') return 'F';
  return undefined;
}
