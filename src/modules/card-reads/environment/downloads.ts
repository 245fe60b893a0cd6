import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicDir } from '../../../platform/paths.js';

export type LauncherPlatform = 'windows' | 'macos' | 'linux';

export interface AgentDownload {
  name: string;
  /** Where the page links to it. */
  href: string;
  bytes: number;
  sha256: string;
}

export interface AgentDownloads {
  version: string;
  /** The bundle that runs on every platform with Node.js (a build artefact), plus each platform's launcher. */
  bundle: AgentDownload;
  launchers: { platform: LauncherPlatform; file: AgentDownload }[];
}

/** A launcher as served: its bytes, made for this server's PUBLIC_ORIGIN. */
export interface LauncherFile {
  name: string;
  content: Buffer;
}

/** The person double-clicks one; it runs the agent next to it with this server's origin allowed (READER-AGENT.md). */
const LAUNCHERS: { platform: LauncherPlatform; name: string; render(bundle: string, origin: string): string }[] = [
  {
    platform: 'windows',
    name: 'start-reader-agent-windows.cmd',
    render: (bundle, origin) =>
      `@echo off\r\nrem NHI reader agent: needs Node.js 20 or later (https://nodejs.org)\r\nnode "%~dp0${bundle}" --allow-origin "${origin}" %*\r\npause\r\n`,
  },
  {
    platform: 'macos',
    name: 'start-reader-agent-macos.command',
    render: (bundle, origin) =>
      `#!/bin/sh\n# NHI reader agent: needs Node.js 20 or later\ncd "$(dirname "$0")" && exec node ./${bundle} --allow-origin '${origin}' "$@"\n`,
  },
  {
    platform: 'linux',
    name: 'start-reader-agent-linux.sh',
    render: (bundle, origin) =>
      `#!/bin/sh\n# NHI reader agent: needs Node.js 20 or later and pcscd (apt install pcscd)\ncd "$(dirname "$0")" && exec node ./${bundle} --allow-origin '${origin}' "$@"\n`,
  },
];

/** Where the launchers are served (GET /downloads/<name>); the bundle stays a static file under /public. */
export const LAUNCHER_PATH = '/downloads';

// An origin goes into shell and cmd text: only what URL.origin produces for http(s) may pass, no quotes or %.
const SAFE_ORIGIN = /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/;
// The bundle name comes from the build's manifest and is interpolated the same way.
const SAFE_BUNDLE = /^[A-Za-z0-9._-]+\.mjs$/;

const describe = (name: string, href: string, content: Buffer): AgentDownload => ({
  name,
  href,
  bytes: content.length,
  sha256: createHash('sha256').update(content).digest('hex'),
});

/**
 * The reader agent downloads: the bundle as scripts/build-assets.mjs built it (its checksum from the build), and
 * launchers rendered for `publicOrigin` on first use, their checksums then computed and kept for the process.
 */
export function agentDownloads(options: { publicOrigin: string; dir?: string }) {
  const dir = options.dir ?? join(publicDir, 'downloads');
  if (!SAFE_ORIGIN.test(options.publicOrigin)) throw new Error(`PUBLIC_ORIGIN cannot go into a launcher: ${options.publicOrigin}`);
  let built: { list: AgentDownloads; files: Map<string, LauncherFile> } | null | undefined;

  const build = () => {
    const manifestFile = join(dir, 'checksums.json');
    if (!existsSync(manifestFile)) return null;
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { version: string; files: Omit<AgentDownload, 'href'>[] };
    const bundle = manifest.files.find((f) => SAFE_BUNDLE.test(f.name));
    if (!bundle) return null;
    const files = new Map<string, LauncherFile>();
    const launchers = LAUNCHERS.map((l) => {
      const content = Buffer.from(l.render(bundle.name, options.publicOrigin), 'utf8');
      files.set(l.name, { name: l.name, content });
      return { platform: l.platform, file: describe(l.name, `${LAUNCHER_PATH}/${l.name}`, content) };
    });
    const list: AgentDownloads = {
      version: manifest.version,
      bundle: { name: bundle.name, href: `/public/downloads/${bundle.name}`, bytes: bundle.bytes, sha256: bundle.sha256 },
      launchers,
    };
    return { list, files };
  };
  const get = () => (built === undefined ? (built = build()) : built);

  return {
    /** What the environment page lists; undefined when the agent was not built (run `npm run build`). */
    list(): AgentDownloads | undefined {
      return get()?.list;
    },
    /** A launcher's bytes by file name, the same bytes whose checksum list() gives. */
    launcher(name: string): LauncherFile | undefined {
      return get()?.files.get(name);
    },
  };
}

export type AgentDownloadsSource = ReturnType<typeof agentDownloads>;
