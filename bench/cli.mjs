#!/usr/bin/env node
// `npm run bench -- [join|meeting] [options]`: the join control-plane benchmark (default) or the
// meeting load benchmark with simulated units. Each prints one JSON object as its last stdout line.
//   join    --participants 40 --workers 1
//   meeting --units 550 --speakers 2 --gallery-viewers 6 --duration 60 [--naive] [--chromium 2]
//           [--bad-bots 0] [--switch 10] [--bots-per-socket 1] [--join-concurrency 10] [--workers <cores>]
//           [--compare-naive N]   then the naive layout with N units in the same invocation, and the ratios
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const [subcommand = 'join'] = process.argv.slice(2).filter((arg) => !arg.startsWith('-')).slice(0, 1);

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
  const result = new URL('./results/meeting.json', import.meta.url);
  const root = fileURLToPath(new URL('..', import.meta.url));
  /** Runs the scenario under vitest (its output on stderr) and returns the JSON it wrote. */
  const runScenario = (scenario) => {
    rmSync(result, { force: true });
    const run = spawnSync('npx', ['--no-install', 'vitest', 'run', '--config', 'bench/vitest.config.ts', 'bench/meeting.bench.test.ts'], {
      cwd: root,
      stdio: ['ignore', 2, 2],
      env: { ...process.env, BENCH_MEETING_OPTIONS: JSON.stringify(scenario) },
    });
    if (run.status !== 0) process.exit(run.status ?? 1);
    return JSON.parse(readFileSync(result, 'utf8'));
  };
  const measured = runScenario(options);
  const naiveUnits = number('compare-naive');
  if (naiveUnits !== undefined && !options.naive) {
    // The same box, minutes apart: worker CPU per unit and per packet of both layouts.
    const naive = runScenario({ ...options, units: naiveUnits, naive: true, galleryViewers: 0, chromium: 0 });
    const cpuPerUnit = (run) => run.worker_cpu_pct.reduce((sum, pct) => sum + pct, 0) / run.units_joined;
    measured.naive = naive;
    measured.naive_vs_lastn_cpu_per_unit = Number((cpuPerUnit(naive) / cpuPerUnit(measured)).toFixed(2));
    measured.naive_vs_lastn_pps_out_per_unit = Number((naive.pps_out / naive.units_joined / (measured.pps_out / measured.units_joined)).toFixed(2));
  }
  process.stdout.write(`${JSON.stringify(measured)}\n`);
} else {
  console.error(`unknown benchmark "${subcommand}": use join or meeting`);
  process.exit(2);
}
