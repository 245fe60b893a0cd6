import { Router } from 'express';
import { detectBrowser } from '../../../platform/http/index.js';
import { render } from '../../../platform/views/index.js';
import { LAUNCHER_PATH, type AgentDownloadsSource } from './downloads.js';
import type { CardReads } from '../session.js';
import type { CardRegistry } from '../../cards/index.js';

export { agentDownloads, type AgentDownload, type AgentDownloads, type AgentDownloadsSource } from './downloads.js';

/** 系統設定須知 / 檢測健保卡認證: the visitor's environment, the reader agent's connection, a test read, downloads. */
export function environmentRouter(deps: { cardReads: CardReads; registry: CardRegistry; downloads: AgentDownloadsSource }): Router {
  const router = Router();
  // The launchers carry this server's PUBLIC_ORIGIN, so they are rendered here rather than at build time.
  router.get(`${LAUNCHER_PATH}/:name`, (req, res, next) => {
    const file = deps.downloads.launcher(req.params.name);
    if (!file) return next();
    res.attachment(file.name);
    res.type('application/octet-stream');
    res.send(file.content);
  });
  router.get('/environment', async (req, res) => {
    const card = deps.cardReads.verifiedCard(req, 'env-check');
    // 驗證健保卡: the card read was verified on arrival; this shows what the registry says of it now.
    const verification = card && req.query.verify === '1' ? await deps.registry.findByNumber(card.cardNumber) : undefined;
    render(req, res, 'card-reads/environment', {
      env: detectBrowser(req.get('User-Agent')),
      cardPanel: await deps.cardReads.panel(req, { purpose: 'env-check', returnTo: '/environment' }),
      card,
      verification,
      maskedCardNumber: card ? `${card.cardNumber.slice(0, 4)}****${card.cardNumber.slice(-4)}` : undefined,
      downloads: deps.downloads.list(),
    });
  });
  return router;
}
