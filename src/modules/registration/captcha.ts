// 圖片驗證碼 without server state for a page view: the answer's MAC travels sealed in the form, the image is drawn
// into the page, and only a check writes (the id, so one image answers once).
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../platform/clock.js';
import { CaptchaUseSchema } from './entities/deletion.js';
import { sameDigest, Sealer } from '../../platform/secrets.js';

// svg-captcha's callable export (draws a given text) is missing from its type declarations.
const drawCaptcha = createRequire(import.meta.url)('svg-captcha') as (text: string, options?: Record<string, unknown>) => string;

export const CAPTCHA_TTL_MS = 10 * 60 * 1000;
const CAPTCHA_LENGTH = 5;

export interface IssuedCaptcha {
  /** The hidden field's value: id, expiry and the answer's MAC. */
  seal: string;
  /** The image as SVG markup (paths only, no text or script), for the page itself. */
  svg: string;
}

export type CaptchaCheck = 'ok' | 'wrong' | 'used' | 'expired';

export class Captchas {
  private readonly sealer: Sealer;

  /** `fixed` (CAPTCHA_FIXED) makes every answer that value, for scripted clients outside production. */
  constructor(secret: string, private readonly clock: Clock, private readonly fixed?: string) {
    this.sealer = new Sealer(secret, 'captcha');
  }

  issue(): IssuedCaptcha {
    const answer = this.fixed ?? Array.from({ length: CAPTCHA_LENGTH }, () => randomInt(10)).join('');
    const id = randomBytes(16).toString('base64url');
    const expiresAt = this.clock.now().getTime() + CAPTCHA_TTL_MS;
    const seal = this.sealer.seal({ i: id, e: expiresAt, h: this.answerMac(id, answer) });
    return { seal, svg: drawCaptcha(answer, { width: 150, height: 50, fontSize: 56, noise: 2, color: false, background: '#f4f4f4' }) };
  }

  /**
   * Whether `typed` answers the sealed captcha (case-insensitive). Every check uses the captcha up, right or wrong,
   * so one image cannot be guessed at: the id goes into captcha_use, and an id already there is refused.
   */
  async check(em: EntityManager, seal: unknown, typed: unknown): Promise<CaptchaCheck> {
    const opened = this.sealer.open(seal);
    if (!opened || typeof opened.i !== 'string' || typeof opened.e !== 'number' || typeof opened.h !== 'string') return 'wrong';
    if (opened.e <= this.clock.now().getTime()) return 'expired';
    const inserted = await (em as SqlEntityManager)
      .createQueryBuilder(CaptchaUseSchema)
      .insert({ id: opened.i, usedAt: this.clock.now() })
      .onConflict('id')
      .ignore()
      .execute('run');
    if (inserted.affectedRows !== 1) return 'used';
    const answer = typeof typed === 'string' ? typed.trim() : '';
    return answer && sameDigest(this.answerMac(opened.i, answer), opened.h) ? 'ok' : 'wrong';
  }

  private answerMac(id: string, answer: string): string {
    return this.sealer.mac(`answer\0${id}\0${answer.toLowerCase()}`);
  }
}
