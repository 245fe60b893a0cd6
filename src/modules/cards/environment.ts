import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from 'express';
import { detectBrowser } from '../../platform/http/index.js';
import { publicDir } from '../../platform/paths.js';
import { render } from '../../platform/views/index.js';
import type { CardReads } from './read-session.js';
import type { CardRegistry } from './registry.js';

export interface AgentDownload {
  name: string;
  bytes: number;
  sha256: string;
}

export interface AgentDownloads {
  version: string;
  /** The bundle that runs on every platform with Node.js, plus each platform's launcher. */
  bundle: AgentDownload;
  launchers: { platform: 'windows' | 'macos' | 'linux'; file: AgentDownload }[];
}

/** The reader agent downloads and their SHA-256 checksums, as scripts/build-assets.mjs wrote them at build time. */
export function loadAgentDownloads(dir = join(publicDir, 'downloads')): AgentDownloads | undefined {
  const file = join(dir, 'checksums.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { version: string; files: AgentDownload[] };
  const bundle = manifest.files.find((f) => f.name.endsWith('.mjs'));
  if (!bundle) return undefined;
  const launcher = (platform: 'windows' | 'macos' | 'linux', suffix: string) => {
    const found = manifest.files.find((f) => f.name.includes(platform) && f.name.endsWith(suffix));
    return found ? [{ platform, file: found }] : [];
  };
  return {
    version: manifest.version,
    bundle,
    launchers: [...launcher('windows', '.cmd'), ...launcher('macos', '.command'), ...launcher('linux', '.sh')],
  };
}

/** 系統設定須知 / 檢測健保卡認證: the visitor's environment, the reader agent's connection, a test read, downloads. */
export function environmentRouter(deps: { cardReads: CardReads; registry: CardRegistry; downloads: AgentDownloads | undefined }): Router {
  const router = Router();
  router.get('/environment', async (req, res) => {
    const card = deps.cardReads.verifiedCard(req, 'env-check');
    // 驗證健保卡: the card read was verified on arrival; this shows what the registry says of it now.
    const verification = card && req.query.verify === '1' ? await deps.registry.findByNumber(card.cardNumber) : undefined;
    render(req, res, 'cards/environment', {
      env: detectBrowser(req.get('User-Agent')),
      cardPanel: await deps.cardReads.panel(req, { purpose: 'env-check', returnTo: '/environment' }),
      card,
      verification,
      maskedCardNumber: card ? `${card.cardNumber.slice(0, 4)}****${card.cardNumber.slice(-4)}` : undefined,
      downloads: deps.downloads,
    });
  });
  return router;
}
