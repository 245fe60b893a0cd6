import { Router } from 'express';
import { addressList, onlyFrom } from '../http/index.js';
import { render } from '../views/index.js';
import type { LocalMailbox } from './mailbox.js';
import type { Mailer } from './mailer.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A mail's text as safe HTML: everything escaped first, then http(s) URLs made into links. The HTML
 * version is not shown: it would need an inline frame the CSP forbids, and the text says the same.
 */
export function textWithLinks(text: string): string {
  return escapeHtml(text).replace(/https?:\/\/[\x21-\x7e]+/g, (url) => `<a href="${url}">${url}</a>`);
}

const notFound = Object.assign(new Error('not found'), { status: 404 });

/**
 * The development mailbox: GET /dev/mailbox, GET /dev/mailbox/:id, POST /dev/mailbox/clear. Only clients in
 * `allow` (INTRANET_ALLOW, loopback by default) reach it: a development server on a LAN must not show its mail.
 */
export function mailboxRouter(deps: { mailbox: LocalMailbox; mailer: Mailer; allow: readonly string[] }): Router {
  const router = Router();
  // Scoped to the mailbox's paths: this router is mounted at the root and sees every request.
  router.use('/dev/mailbox', onlyFrom(addressList(deps.allow)));
  router.get('/dev/mailbox', async (req, res) => {
    const [messages, inDoubt] = await Promise.all([deps.mailbox.list(), deps.mailer.listInDoubt()]);
    render(req, res, 'dev/mailbox', { messages, inDoubt });
  });
  router.get('/dev/mailbox/:id', async (req, res, next) => {
    const mail = await deps.mailbox.read(req.params.id);
    if (!mail) return next(notFound);
    render(req, res, 'dev/mailbox-message', { mail, bodyHtml: textWithLinks(mail.text) });
  });
  router.post('/dev/mailbox/clear', async (_req, res) => {
    await deps.mailbox.clear();
    res.redirect(303, '/dev/mailbox');
  });
  return router;
}
