#!/usr/bin/env node
// Builds the mediasoup worker offline from the sources vendored in mediasoup@3.8.4's npm tarball,
// with patches/mediasoup+<version>.patch applied, and caches the binary outside the repo under a
// key made of the mediasoup version and the patch's hash. A warm cache makes this a no-op; a cold
// one (new machine, new version, changed patch) rebuilds (~8 min on 2 cores).
//
// Prints the cached binary's absolute path as its last line of stdout.
// Env: MEDIASOUP_WORKER_CACHE (default ~/.cache/cityconf/mediasoup-worker).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function workerCacheKey() {
  const pkg = JSON.parse(readFileSync(join(root, 'node_modules/mediasoup/package.json'), 'utf8'));
  const patchFile = join(root, 'patches', `mediasoup+${pkg.version}.patch`);
  if (!existsSync(patchFile)) {
    throw new Error(`missing ${patchFile}: mediasoup ${pkg.version} has no offline build patch; pin mediasoup@3.8.4`);
  }
  const patchHash = createHash('sha256').update(readFileSync(patchFile)).digest('hex').slice(0, 16);
  return { version: pkg.version, key: `${pkg.version}-${patchHash}` };
}

export function workerBinaryPath() {
  const cacheRoot = process.env.MEDIASOUP_WORKER_CACHE ?? join(homedir(), '.cache/cityconf/mediasoup-worker');
  return join(cacheRoot, workerCacheKey().key, 'mediasoup-worker');
}

export function ensureWorker({ log = console.error } = {}) {
  // Patched sources even on a cache hit: tests compile parts of them (sfu/test/worker-patches).
  // patch-package skips a patch that is applied already.
  execFileSync('npx', ['--no-install', 'patch-package', '--error-on-fail'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const binary = workerBinaryPath();
  if (existsSync(binary)) return binary;

  const workerDir = join(root, 'node_modules/mediasoup/worker');
  const { key } = workerCacheKey();
  log(`[mediasoup-worker] cache miss for ${key}: building the patched worker (3–8 minutes on 2 cores)`);

  // setup.mjs links a cached binary here; the linker must not write through that link into the
  // cache entry of another version or patch.
  const built = join(workerDir, 'out/Release/mediasoup-worker');
  if (lstatSync(built, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(built);

  const env = { ...process.env, PYTHON: 'python3' };
  delete env.MEDIASOUP_WORKER_BIN; // the Makefile skips the build when it is set
  mkdirSync(dirname(binary), { recursive: true });
  const buildLog = `${dirname(binary)}.build.log`;
  const logFd = openSync(buildLog, 'w');
  try {
    execFileSync('make', ['-C', workerDir], { env, stdio: ['ignore', logFd, logFd] });
  } catch (error) {
    const tail = readFileSync(buildLog, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`mediasoup worker build failed (full log: ${buildLog}):\n${tail}`, { cause: error });
  } finally {
    closeSync(logFd);
  }

  copyFileSync(built, `${binary}.tmp`);
  renameSync(`${binary}.tmp`, binary);
  log(`[mediasoup-worker] cached ${binary}`);
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(ensureWorker());
}
