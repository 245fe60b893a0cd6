// Build-time assets, run after `npm install` and by `npm run build`:
// - the pinned htmx 1.9 build copied from its npm package into public/js (never served from a CDN);
// - the reader agent bundled into one file people download, with its SHA-256 checksum. The launchers next to it
//   carry the server's PUBLIC_ORIGIN, so the server renders them (src/modules/cards/downloads.ts), not the build.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

let htmx;
try {
  htmx = require.resolve('htmx.org/dist/htmx.min.js');
} catch {
  process.exit(0); // an install without dev packages (the container's runtime stage): assets come from the build stage
}
mkdirSync(join(root, 'public', 'js'), { recursive: true });
copyFileSync(htmx, join(root, 'public', 'js', 'htmx.min.js'));

const agentEntry = join(root, 'src', 'agent', 'main.ts');
if (!existsSync(agentEntry)) process.exit(0); // an install before the sources are copied in (the image's first layer)

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('esbuild is not installed: the reader agent download was not built');
  process.exit(0);
}
const downloads = join(root, 'public', 'downloads');
mkdirSync(downloads, { recursive: true });
const bundle = `nhi-reader-agent-${pkg.version}.mjs`;
await esbuild.build({
  entryPoints: [agentEntry],
  outfile: join(downloads, bundle),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: false,
  legalComments: 'none',
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});

// Launchers of earlier builds had an origin baked in; none may linger under /public to be downloaded instead.
for (const name of readdirSync(downloads)) {
  if (name.startsWith('start-reader-agent-')) rmSync(join(downloads, name));
}

const files = [bundle].map((name) => {
  const content = readFileSync(join(downloads, name));
  return { name, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') };
});
writeFileSync(join(downloads, 'checksums.json'), `${JSON.stringify({ version: pkg.version, builtAt: new Date().toISOString(), files }, null, 2)}\n`);
writeFileSync(join(downloads, 'SHA256SUMS'), files.map((f) => `${f.sha256}  ${f.name}\n`).join(''));
