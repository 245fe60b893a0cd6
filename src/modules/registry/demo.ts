/**
 * A synthetic, valid registry data set for demos, tests and benchmarks: persons.csv, cards.csv,
 * enrollments.csv in the import format, and simulated-card JSON files for the reader agent.
 *
 * Every value is a function of (seed, person index), so the files are written in streaming passes with
 * constant memory whatever the number of persons, and the same seed always gives the same persons. Card keys
 * also depend on the installation's secret ($DATA_DIR/demo-secret): the source code alone signs for no one.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { dataFilesDir } from '../../platform/paths.js';
import { idCheckDigit, type PersonRecord } from '../household/index.js';
import { DEMO_MARKER_FILE, refuseDemoInProduction } from './guard.js';
import { demoSecret } from './secret.js';

export interface DemoRegistryOptions {
  /** Folder to write (created if missing). */
  out: string;
  /** The installation's data folder (DATA_DIR): its demo secret, created if missing, makes the card keys. */
  dataDir: string;
  persons?: number;
  seed?: string;
  /** Simulated-card JSON files: one per card when there are at most this many persons, else only the first 50. */
  allCardFilesUpTo?: number;
}

export interface DemoRegistryResult {
  persons: number;
  cards: number;
  voidCards: number;
  enrollments: number;
  cardFiles: number;
  /** Cards left without a JSON file (large data sets). */
  cardFilesSkipped: number;
}

const VILLAGES_FILE = 'tw-villages-20230928.csv';
const DEFAULT_SEED = 'nhi-demo';
const CARD_FILES_WHEN_LARGE = 50;
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** IDs are (area letter, 7-digit serial) pairs drawn without repetition from a permutation of 26·10^7. */
const ID_SPACE = 26 * 10_000_000;
// i → (a·i + b) mod ID_SPACE is a bijection when a is coprime with ID_SPACE (= 2^8·5^7·13); a near
// 0.618·ID_SPACE scatters consecutive persons across the whole space.
const ID_MULTIPLIER = 160_688_001;
const HOUSEHOLD_MULTIPLIER = 99_999_989;
/** (a·i) mod ID_SPACE without leaving the exact range of doubles. */
const mulMod = (a: number, i: number) => (((Math.floor(a / 65_536) * i) % ID_SPACE) * 65_536 + (a % 65_536) * i) % ID_SPACE;

export const DEMO_UNITS = [
  { code: '12345678', name: '示範股份有限公司' },
  { code: '23456789', name: '臺灣範例科技有限公司' },
  { code: '34567890', name: '範例市立示範國民小學' },
  { code: '45678901', name: '財團法人示範醫院' },
  { code: '56789012', name: '示範食品行' },
];

// Real cards store names in Big5 (CP950): keep only characters that survive the round trip.
const big5 = (s: string) => iconv.decode(iconv.encode(s, 'cp950'), 'cp950') === s;
const big5Chars = (s: string) => [...s].filter(big5);
const SURNAMES = ['陳', '林', '黃', '張', '李', '王', '吳', '劉', '蔡', '楊', '許', '鄭', '謝', '郭', '洪', '曾', '邱', '廖', '賴', '周',
  '徐', '蘇', '葉', '莊', '呂', '江', '何', '蕭', '羅', '高', '簡', '朱', '鍾', '施', '游', '詹', '沈', '彭', '胡', '余', '盧', '潘', '顏',
  '梁', '趙', '柯', '翁', '魏', '方', '孫', '戴', '范', '宋', '鄧', '杜', '侯', '曹', '薛', '傅', '丁', '溫', '紀', '蔣', '歐陽', '司馬',
  '張簡', '范姜', '諸葛'].filter(big5);
const GIVEN = big5Chars('志明俊傑建宏家豪冠宇承恩柏翰宗怡君雅婷淑芬美玲佳穎欣詩涵雯宜庭彥廷品妤郁子晴思宥辰睿哲瑋琪瑜萱芷蓁柔信義德華文武秀英麗珍惠慧芳國正');
// Rarer characters still in Big5 (those not in it, such as 堃 喆 峯 犇, drop out of the list here).
const RARE = big5Chars('琍璦璿瑄旻昀玥珮翊禎彧甯嫚堉焜燊鋆霈淼焱垚媗綪珺堃喆峯犇');
const LATIN_FAMILY = ['NGUYEN', 'TRAN', 'LE', 'PHAM', 'SANTOS', 'REYES', 'GARCIA', 'SMITH', 'TANAKA', 'SUZUKI', 'WIJAYA', 'SITI'];
const LATIN_GIVEN = { M: ['VAN AN', 'JOHN', 'HIROSHI', 'BUDI', 'JOSE', 'MINH'], F: ['THI MAI', 'MARIA', 'YUKI', 'NURHALIZA', 'ANNA', 'LAN'] };

/** mulberry32: a tiny deterministic generator; each person gets its own stream from (seed, index). */
function generator(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const mix = (base: number, i: number, salt: number) => (Math.imul(i ^ salt, 0x9e3779b1) ^ base) >>> 0;
const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const DAY = 86_400_000;
const dateBetween = (r: () => number, from: string, to: string) => {
  const a = Date.parse(from);
  return new Date(a + Math.floor(r() * ((Date.parse(to) - a) / DAY + 1)) * DAY).toISOString().slice(0, 10);
};


interface DemoCard {
  cardNumber: string;
  issuedOn: string;
  status: 'valid' | 'void';
  /** Seed of the card's key, or null for a card without a key. */
  keySeed: Buffer | null;
}

class DemoData {
  private readonly base: number;
  private readonly idOffset: number;

  constructor(private readonly seed: string, private readonly secret: Buffer, private readonly villages: string[]) {
    const h = createHash('sha256').update(seed).digest();
    this.base = h.readUInt32BE(0);
    this.idOffset = h.readUInt32BE(4) % ID_SPACE;
  }

  person(i: number): PersonRecord {
    const r = generator(mix(this.base, i, 0x1234567));
    const sex = r() < 0.5 ? 'M' : 'F';
    // The first persons show every kind of number; then about 2% hold each resident certificate format.
    const k = r();
    const kind = i === 1 ? 'old' : i === 2 ? 'new' : i > 2 && k < 0.02 ? 'old' : i > 2 && k < 0.04 ? 'new' : 'national';
    const p = (mulMod(ID_MULTIPLIER, i) + this.idOffset) % ID_SPACE;
    const letter = LETTERS[Math.floor(p / 10_000_000)]!;
    const second = kind === 'national' ? (sex === 'M' ? '1' : '2') : kind === 'new' ? (sex === 'M' ? '8' : '9')
      : sex === 'M' ? pick(r, ['A', 'C']) : pick(r, ['B', 'D']);
    const prefix = `${letter}${second}${pad(p % 10_000_000, 7)}`;

    // Households of three consecutive persons share the number, the village, the neighbourhood and the surname.
    const household = Math.floor(i / 3);
    const hr = generator(mix(this.base, household, 0x7654321));
    const hp = (mulMod(HOUSEHOLD_MULTIPLIER, household) + this.idOffset) % ID_SPACE;
    const surname = pick(hr, SURNAMES);
    const householdNumber = `${LETTERS[Math.floor(hp / 10_000_000)]}${pad(hp % 10_000_000, 7)}`;
    const villageCode = pick(hr, this.villages);
    const neighborhood = 1 + Math.floor(hr() * 30);

    let name: string;
    if (kind !== 'national' && r() < 0.5) name = `${pick(r, LATIN_FAMILY)} ${pick(r, LATIN_GIVEN[sex])}`;
    else {
      const given = r() < 0.15 ? pick(r, RARE) + pick(r, GIVEN) : pick(r, GIVEN) + (r() < 0.85 ? pick(r, GIVEN) : '');
      name = surname + given;
    }
    return {
      idNumber: prefix + idCheckDigit(prefix),
      name,
      birthDate: dateBetween(r, '1930-01-01', '2022-12-31'),
      sex,
      householdNumber,
      villageCode,
      neighborhood,
    };
  }

  /** The person's current card, and for some (and always person 3) an older void one. */
  cards(i: number, person: PersonRecord): DemoCard[] {
    const r = generator(mix(this.base, i, 0x2468ace));
    const firstIssue = person.birthDate > '2004-01-01' ? person.birthDate : '2004-01-01';
    const issuedOn = dateBetween(r, firstIssue, '2025-06-30');
    const keySeed = (n: string) => createHmac('sha256', this.secret).update(`${this.seed}|card|${n}`).digest();
    const valid = pad(10_000_000 + i, 12);
    const cards: DemoCard[] = [{ cardNumber: valid, issuedOn, status: 'valid', keySeed: keySeed(valid) }];
    if ((i === 3 || r() < 0.03) && issuedOn > firstIssue) {
      const old = pad(900_000_000_000 + i, 12);
      cards.push({ cardNumber: old, issuedOn: dateBetween(r, firstIssue, issuedOn), status: 'void', keySeed: r() < 0.5 ? keySeed(old) : null });
    }
    return cards;
  }

  /** Most persons are insured by one unit (half of them by 示範股份有限公司); some left another unit. */
  enrollments(i: number): { unit: (typeof DEMO_UNITS)[number]; insured: boolean }[] {
    const r = generator(mix(this.base, i, 0x3579bdf));
    const rows: { unit: (typeof DEMO_UNITS)[number]; insured: boolean }[] = [];
    const current = r() < 0.5 ? DEMO_UNITS[0]! : pick(r, DEMO_UNITS);
    if (r() < 0.9) rows.push({ unit: current, insured: true });
    if (r() < 0.1) {
      const former = pick(r, DEMO_UNITS);
      if (former !== current) rows.push({ unit: former, insured: false });
    }
    return rows;
  }
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The Ed25519 key pair of a 32-byte seed, as base64url seed (the JWK `d`) and raw public key (`x`).
 * A JWK import derives the key from `d` alone and is ~8× faster than decoding PKCS#8 on OpenSSL 3;
 * the DER route remains for runtimes that insist on a matching `x`.
 */
function ed25519FromSeed(seed: Buffer): { privateKey: string; publicKey: string } {
  const d = seed.toString('base64url');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x: '' }, format: 'jwk' });
  } catch {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  }
  return { privateKey: d, publicKey: createPublicKey(key).export({ format: 'jwk' }).x! };
}

/** RFC 4180 field. */
const csv = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** Writes the lines a generator yields, in chunks of about 64 KB, with backpressure. */
async function writeLines(path: string, lines: AsyncIterable<string> | Iterable<string>): Promise<void> {
  async function* chunks() {
    let buf = '';
    for await (const line of lines) {
      buf += line;
      if (buf.length >= 65_536) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
}

/** Every village code, and its full name (縣市 + 鄉鎮市區 + 村里) for the simulated cards' household note. */
async function readVillages(): Promise<{ codes: string[]; places: Map<string, string> }> {
  const codes: string[] = [];
  const places = new Map<string, string>();
  for await (const [code, , county, , township, village] of createReadStream(join(dataFilesDir, VILLAGES_FILE)).pipe(parse({ bom: true, from_line: 2 }))) {
    codes.push(code as string);
    places.set(code as string, `${county}${township}${village}`);
  }
  return { codes, places };
}

/** Writes the demo registry into `options.out`. Refuses in production (DemoRefusedError). */
export async function writeDemoRegistry(options: DemoRegistryOptions): Promise<DemoRegistryResult> {
  refuseDemoInProduction();
  const n = options.persons ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > ID_SPACE) throw new Error(`persons must be a whole number from 1 to ${ID_SPACE}`);
  const seed = options.seed ?? DEFAULT_SEED;
  const villages = await readVillages();
  const data = new DemoData(seed, demoSecret(options.dataDir), villages.codes);
  const cardFileLimit = n <= (options.allCardFilesUpTo ?? 1000) ? Infinity : CARD_FILES_WHEN_LARGE;
  mkdirSync(join(options.out, 'cards'), { recursive: true });
  // First, so that even a half-written folder is marked: the import refuses marked folders in production.
  const marker = { demo: true, seed, persons: n, note: 'synthetic data from npm run registry:demo; its card keys derive from the demo-secret of the DATA_DIR that wrote it' };
  await writeFile(join(options.out, DEMO_MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`);
  const result: DemoRegistryResult = { persons: n, cards: 0, voidCards: 0, enrollments: 0, cardFiles: 0, cardFilesSkipped: 0 };

  await writeLines(join(options.out, 'persons.csv'), (function* () {
    yield 'id_number,name,birth_date,sex,household_number,village_code,neighborhood\r\n';
    for (let i = 0; i < n; i++) {
      const p = data.person(i);
      yield `${p.idNumber},${csv(p.name)},${p.birthDate},${p.sex},${p.householdNumber},${p.villageCode},${p.neighborhood}\r\n`;
    }
  })());

  await writeLines(join(options.out, 'cards.csv'), (async function* () {
    yield 'card_number,id_number,issued_on,status,public_key\r\n';
    for (let i = 0; i < n; i++) {
      const p = data.person(i);
      for (const card of data.cards(i, p)) {
        const key = card.keySeed && ed25519FromSeed(card.keySeed);
        result.cards++;
        if (card.status === 'void') result.voidCards++;
        if (key && result.cardFiles >= cardFileLimit) result.cardFilesSkipped++;
        else if (key) {
          result.cardFiles++;
          // The household note lets someone trying the demo fill in 戶號 and 戶籍鄉鎮里鄰 when registering.
          const simulated = { cardNumber: card.cardNumber, idNumber: p.idNumber, name: p.name, birthDate: p.birthDate, sex: p.sex,
            issuedOn: card.issuedOn, privateKey: key.privateKey,
            household: { householdNumber: p.householdNumber, place: villages.places.get(p.villageCode) ?? p.villageCode, neighborhood: p.neighborhood } };
          await writeFile(join(options.out, 'cards', `${card.cardNumber}.json`), `${JSON.stringify(simulated, null, 2)}\n`);
        }
        yield `${card.cardNumber},${p.idNumber},${card.issuedOn},${card.status},${key?.publicKey ?? ''}\r\n`;
      }
    }
  })());

  await writeLines(join(options.out, 'enrollments.csv'), (function* () {
    yield 'id_number,unit_code,unit_name,insured\r\n';
    for (let i = 0; i < n; i++) {
      const id = data.person(i).idNumber;
      for (const e of data.enrollments(i)) {
        result.enrollments++;
        yield `${id},${e.unit.code},${csv(e.unit.name)},${e.insured ? 1 : 0}\r\n`;
      }
    }
  })());
  return result;
}
