#!/usr/bin/env node
// `npm run bench -- [join|meeting|drone] [options]`: the join control-plane benchmark (default), the
// meeting load benchmark with simulated units, or the drone relay benchmark. Each prints one JSON
// object as its last stdout line.
//   join    --participants 40 --workers 1
//   meeting --units 550 --speakers 2 --gallery-viewers 6 --duration 60 [--naive] [--chromium 2]
//           [--bad-bots 0] [--switch 10] [--bots-per-socket 1] [--join-concurrency 10] [--workers <cores>]
//           [--compare-naive N]   then the naive layout with N units in the same invocation, and the ratios
//   drone   --feeds 8 --duration 30 [--protocol rtmp|whip] [--transcode] [--workers 2]
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const [subcommand = 'join'] = process.argv.slice(2).filter((arg) => !arg.startsWith('-')).slice(0, 1);
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs `bench/<name>.bench.test.ts` under vitest (its output on stderr) with `options` as JSON in
 * `BENCH_<NAME>_OPTIONS`, and returns the JSON it wrote to bench/results/<name>.json.
 */
function runScenario(name, options) {
  const result = new URL(`./results/${name}.json`, import.meta.url);
  rmSync(result, { force: true });
  const run = spawnSync('npx', ['--no-install', 'vitest', 'run', '--config', 'bench/vitest.config.ts', `bench/${name}.bench.test.ts`], {
    cwd: root,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, [`BENCH_${name.toUpperCase()}_OPTIONS`]: JSON.stringify(options) },
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
  return JSON.parse(readFileSync(result, 'utf8'));
}

if (subcommand === 'join') {
  await import('./join.mjs');
} else if (subcommand === 'meeting') {
  const { values } = parseArgs({
    allowPositionals: true,
    options: {
      units: { type: 'string' },
      speakers: { type: 'string' },
      'gallery-viewers': { type: 'string' },
      duration: { type: 'string' },
      switch: { type: 'string' },
      naive: { type: 'boolean' },
      chromium: { type: 'string' },
      'bad-bots': { type: 'string' },
      'bots-per-socket': { type: 'string' },
      'join-concurrency': { type: 'string' },
      workers: { type: 'string' },
      'compare-naive': { type: 'string' },
    },
  });
  const number = (name) => (values[name] === undefined ? undefined : Number(values[name]));
  const options = {
    units: number('units'),
    speakers: number('speakers'),
    galleryViewers: number('gallery-viewers'),
    durationSeconds: number('duration'),
    switchSeconds: number('switch'),
    naive: values.naive,
    chromium: number('chromium'),
    badBots: number('bad-bots'),
    botsPerSocket: number('bots-per-socket'),
    joinConcurrency: number('join-concurrency'),
    numWorkers: number('workers'),
  };
  const measured = runScenario('meeting', options);
  const naiveUnits = number('compare-naive');
  if (naiveUnits !== undefined && !options.naive) {
    // The same box, minutes apart: worker CPU per unit and per packet of both layouts.
    const naive = runScenario('meeting', { ...options, units: naiveUnits, naive: true, galleryViewers: 0, chromium: 0 });
    const cpuPerUnit = (run) => run.worker_cpu_pct.reduce((sum, pct) => sum + pct, 0) / run.units_joined;
    measured.naive = naive;
    measured.naive_vs_lastn_cpu_per_unit = Number((cpuPerUnit(naive) / cpuPerUnit(measured)).toFixed(2));
    measured.naive_vs_lastn_pps_out_per_unit = Number((naive.pps_out / naive.units_joined / (measured.pps_out / measured.units_joined)).toFixed(2));
  }
  process.stdout.write(`${JSON.stringify(measured)}\n`);
} else if (subcommand === 'drone') {
  const { values } = parseArgs({
    allowPositionals: true,
    options: {
      feeds: { type: 'string' },
      duration: { type: 'string' },
      protocol: { type: 'string' },
      transcode: { type: 'boolean' },
      workers: { type: 'string' },
    },
  });
  const number = (name) => (values[name] === undefined ? undefined : Number(values[name]));
  if (values.protocol !== undefined && values.protocol !== 'rtmp' && values.protocol !== 'whip') {
    console.error(`--protocol ${values.protocol}: use rtmp or whip`);
    process.exit(2);
  }
  const measured = runScenario('drone', {
    feeds: number('feeds'),
    durationSeconds: number('duration'),
    protocol: values.protocol,
    transcode: values.transcode,
    numWorkers: number('workers'),
  });
  process.stdout.write(`${JSON.stringify(measured)}\n`);
} else {
  console.error(`unknown benchmark "${subcommand}": use join, meeting or drone`);
  process.exit(2);
}
