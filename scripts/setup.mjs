#!/usr/bin/env node
// Installs and builds whatever is missing or stale, so that `npm start` and `npm test` work on a
// fresh clone: npm dependencies (npm ci), the patched mediasoup worker and better-sqlite3's native
// addon (both cached outside the repo), the TypeScript build (tsc -b) and the web client (vite
// build). Each step is skipped when up to date. Uses only Node built-ins until dependencies are
// installed. Logs go to stderr.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (message) => quiet || console.error(`[setup] ${message}`);
const run = (command, args, cwd = root) => execFileSync(command, args, { cwd, stdio: ['ignore', 2, 2] });

/**
 * Debian packages the test suite drives (real Chromium, real ffmpeg, `ss`, GStreamer's RTSP server
 * as the fixed camera feeds are pulled from, sipp, tshark and baresip for SIP); installed when missing.
 */
function ensureTestTools() {
  const wanted = {
    chromium: '/usr/bin/chromium',
    ffmpeg: '/usr/bin/ffmpeg',
    iproute2: '/usr/bin/ss',
    'python3-gi': '/usr/lib/python3/dist-packages/gi/__init__.py',
    'gir1.2-gst-rtsp-server-1.0': '/usr/lib/x86_64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib',
    'gstreamer1.0-plugins-good': '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstisomp4.so',
    'gstreamer1.0-plugins-bad': '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoparsersbad.so',
    // SIP peers and decoding for the cascade's tests.
    'sip-tester': '/usr/bin/sipp',
    tshark: '/usr/bin/tshark',
    baresip: '/usr/bin/baresip',
    'baresip-ffmpeg': '/usr/lib/baresip/modules/avcodec.so',
  };
  const missing = Object.entries(wanted).filter(([, path]) => !existsSync(path)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.join(', ')}: run "sudo apt-get install -y ${missing.join(' ')}" and try again`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function ensureDependencies() {
  // A changed patch reinstalls too: patch-package applies patches to clean packages only.
  const hash = createHash('sha256');
  hash.update(readFileSync(join(root, 'package-lock.json')));
  for (const patch of readdirSync(join(root, 'patches')).sort()) hash.update(readFileSync(join(root, 'patches', patch)));
  const installHash = hash.digest('hex');
  const stamp = join(root, 'node_modules/.cityconf-lock-hash');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === installHash) return;
  log('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, installHash);
}

async function ensureWorkerBinary() {
  const { ensureWorker } = await import('./mediasoup-worker.mjs');
  const binary = ensureWorker({ log });
  // mediasoup looks for its worker here unless MEDIASOUP_WORKER_BIN says otherwise.
  const expected = join(root, 'node_modules/mediasoup/worker/out/Release/mediasoup-worker');
  const present = (() => {
    try {
      return lstatSync(expected);
    } catch {
      return undefined;
    }
  })();
  if (present?.isFile()) return;
  if (present) unlinkSync(expected);
  mkdirSync(dirname(expected), { recursive: true });
  symlinkSync(binary, expected);
}

async function ensureSqliteAddon() {
  const { ensureBetterSqlite3 } = await import('./better-sqlite3.mjs');
  ensureBetterSqlite3({ log });
}

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

function ensureWebClient() {
  const web = join(root, 'web-client');
  const built = join(web, 'dist/index.html');
  const inputs = ['src', 'index.html', 'vite.config.ts', 'svelte.config.js', 'tsconfig.json', 'package.json', '../signaling/src/protocol.ts'];
  const newestInput = Math.max(...inputs.map((input) => join(web, input)).filter(existsSync).map(newestMtime));
  if (existsSync(built) && statSync(built).mtimeMs >= newestInput) return;
  log('building the web client (vite build)');
  run('npx', ['--no-install', 'vite', 'build', '--logLevel', 'warn'], web);
}

if (process.argv.includes('--for-tests')) ensureTestTools();
ensureDependencies();
await ensureWorkerBinary();
await ensureSqliteAddon();
log('compiling TypeScript (tsc -b)');
run('npx', ['--no-install', 'tsc', '-b']);
ensureWebClient();
