import { Eta } from 'eta';
import type { Request, Response, RequestHandler } from 'express';
import { viewsDir } from '../paths.js';

export interface RenderOptions {
  status?: number;
  /** The partial that answers an HTMX request for this page (one partial per swap target). */
  fragment?: string;
}

export type Views = Eta;

export function createViews(options: { cache: boolean }): Views {
  return new Eta({ views: viewsDir, cache: options.cache, autoEscape: true, autoTrim: [false, 'nl'] });
}

/** True for an HTMX swap request; a history restore wants the whole page. */
export function isFragmentRequest(req: Request): boolean {
  return req.get('HX-Request') === 'true' && req.get('HX-History-Restore-Request') !== 'true';
}

/** Every response may differ by HX-Request, so caches must key on it. */
export const varyOnHtmx: RequestHandler = (_req, res, next) => {
  res.vary('HX-Request');
  next();
};

/**
 * Renders `template` as a whole page, or only `options.fragment` for an HTMX request.
 * Templates see the request's locals (t, locale, csrfToken, …) merged with `data` as `it`.
 */
export function render(req: Request, res: Response, template: string, data: object = {}, options: RenderOptions = {}): void {
  const views = req.app.locals.views as Views;
  const name = options.fragment && isFragmentRequest(req) ? options.fragment : template;
  const html = views.render(name, { ...res.locals, ...data });
  res.status(options.status ?? 200).type('html').send(html);
}
