#!/usr/bin/env node
// Builds better-sqlite3's native addon offline with npm's bundled node-gyp (the repo's .npmrc skips
// install scripts, and prebuild-install would download from GitHub) and caches it outside the repo
// under a key made of the package version and Node's ABI, platform and arch. A warm cache copies
// the addon into node_modules (npm ci wipes it); a cold one compiles SQLite (~1 min on 2 cores).
//
// Prints the installed addon's absolute path as its last line of stdout.
// Env: BETTER_SQLITE3_CACHE (default ~/.cache/cityconf/better-sqlite3).
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packageDir = join(root, 'node_modules/better-sqlite3');
const installed = join(packageDir, 'build/Release/better_sqlite3.node');

export function addonCachePath() {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const cacheRoot = process.env.BETTER_SQLITE3_CACHE ?? join(homedir(), '.cache/cityconf/better-sqlite3');
  const key = `${pkg.version}-node${process.versions.modules}-${process.platform}-${process.arch}`;
  return join(cacheRoot, key, 'better_sqlite3.node');
}

/** npm's own node-gyp, found beside the npm that runs setup (or the one on PATH). */
function nodeGypScript() {
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..'));
  try {
    const npmCli = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
    candidates.push(join(npmCli, 'npm'));
  } catch {
    // no npm on PATH: the candidates below still apply
  }
  candidates.push(join(dirname(process.execPath), '../lib/node_modules/npm'));
  const script = candidates.map((npmDir) => join(npmDir, 'node_modules/node-gyp/bin/node-gyp.js')).find(existsSync);
  if (!script) throw new Error(`cannot find npm's bundled node-gyp (looked in ${candidates.join(', ')}): install npm with Node`);
  return script;
}

function build(cached, log) {
  log(`[better-sqlite3] cache miss for ${dirname(cached)}: compiling the addon (about 1 minute)`);
  const args = [nodeGypScript(), 'rebuild', '--release'];
  // Node's headers cannot be downloaded here: use the ones installed with this Node (Debian's
  // nodejs in /usr, the official builds and images in /usr/local), which match its ABI.
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include/node/node.h'))) args.push(`--nodedir=${prefix}`);
  else if (existsSync('/usr/include/node/node.h')) args.push('--nodedir=/usr');
  mkdirSync(dirname(cached), { recursive: true });
  const buildLog = `${dirname(cached)}.build.log`;
  const logFd = openSync(buildLog, 'w');
  try {
    execFileSync(process.execPath, args, { cwd: packageDir, stdio: ['ignore', logFd, logFd] });
  } catch (error) {
    const tail = readFileSync(buildLog, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`better-sqlite3 build failed (full log: ${buildLog}):\n${tail}`, { cause: error });
  } finally {
    closeSync(logFd);
  }
  copyFileSync(installed, `${cached}.tmp`);
  renameSync(`${cached}.tmp`, cached);
  log(`[better-sqlite3] cached ${cached}`);
}

export function ensureBetterSqlite3({ log = console.error } = {}) {
  if (!existsSync(packageDir)) throw new Error(`missing ${packageDir}: run "npm ci" first`);
  const cached = addonCachePath();
  if (!existsSync(cached)) build(cached, log);
  if (!existsSync(installed) || !readFileSync(installed).equals(readFileSync(cached))) {
    mkdirSync(dirname(installed), { recursive: true });
    copyFileSync(cached, installed);
  }
  return installed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(ensureBetterSqlite3());
}
