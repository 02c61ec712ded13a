#!/usr/bin/env node
// Checks the web client's initial JavaScript (what index.html loads before anything else) against
// the gzip budget stated in README.md ("Initial JS budget"). Run after `vite build`.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'web-client/dist');

const budgetMatch = /Initial JS budget: \*\*(\d+) kB\*\* gzip/.exec(readFileSync(join(root, 'README.md'), 'utf8'));
if (!budgetMatch) throw new Error('README.md states no "Initial JS budget: **N kB** gzip" line');
const budgetKb = Number(budgetMatch[1]);

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/?([^"]+\.js)"/g)].map((m) => m[1]);
if (initial.length === 0) throw new Error(`no scripts found in ${join(dist, 'index.html')}: run "npm run build" first`);

const files = initial.map((file) => {
  const bytes = readFileSync(join(dist, file));
  return { file, kb: bytes.length / 1000, gzipKb: gzipSync(bytes, { level: 9 }).length / 1000 };
});
const gzipKb = files.reduce((sum, f) => sum + f.gzipKb, 0);
const report = { budgetKb, gzipKb: Math.round(gzipKb * 10) / 10, files: files.map((f) => ({ ...f, kb: Math.round(f.kb * 10) / 10, gzipKb: Math.round(f.gzipKb * 10) / 10 })) };
console.log(JSON.stringify(report));
if (gzipKb > budgetKb) {
  console.error(`initial JS is ${report.gzipKb} kB gzip, over the ${budgetKb} kB budget in README.md`);
  process.exit(1);
}
