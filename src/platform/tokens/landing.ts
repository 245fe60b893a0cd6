import type { Request, Response } from 'express';
import { renewIdentity } from '../http/index.js';
import { linkTokenHash, type LinkTokenCheck } from './link-tokens.js';

declare module 'express-session' {
  interface SessionData {
    /** Links from mails being used, by their page: the token's hash only, so the session store cannot replay it. */
    links?: Record<string, { tokenHash: string; subject: string }>;
  }
}

export type LinkRefusal = Exclude<LinkTokenCheck['status'], 'valid'>;
export type LandedLink = { ok: true; tokenHash: string; subject: string } | { ok: false; status: LinkRefusal };

/**
 * The page a mailed link (`path?token=…`) opens. A valid token's hash goes into the session (under a new session id)
 * and the browser is sent on to the bare path, so the token leaves the address bar, the history and the Referer.
 */
export function linkLanding(options: { path: string; status: (tokenHash: string) => Promise<LinkTokenCheck> }) {
  const current = async (req: Request): Promise<LandedLink> => {
    const kept = req.session?.links?.[options.path];
    if (!kept) return { ok: false, status: 'unknown' };
    const status = await options.status(kept.tokenHash);
    return status.status === 'valid' ? { ok: true, ...kept } : { ok: false, status: status.status };
  };
  return {
    /**
     * GET: with `?token=` keeps it and answers the redirect (true: the response is sent); without, what the session
     * holds. The link stays in the session after it is used, so a second submit hears "used", not "unknown".
     */
    async land(req: Request, res: Response): Promise<LandedLink | true> {
      const token = req.query.token;
      if (typeof token !== 'string') return current(req);
      const tokenHash = linkTokenHash(token);
      const status = await options.status(tokenHash);
      if (status.status !== 'valid') return { ok: false, status: status.status };
      await renewIdentity(req);
      req.session.links = { ...req.session.links, [options.path]: { tokenHash, subject: status.subject } };
      res.redirect(303, options.path);
      return true;
    },
    /** The link this session is using, checked again (for the page's POST). */
    current,
  };
}
