#!/usr/bin/env node
// `npm run bench -- [join|meeting|drone|recording|sip] [options]`: the join control-plane benchmark
// (default), the meeting load benchmark with simulated units, the drone relay benchmark, the
// recording cost benchmark, or the SIP legs benchmark. Each prints one JSON object as its last
// stdout line.
//   join    --participants 40 --workers 1
//   meeting --units 550 --speakers 2 --gallery-viewers 6 --duration 60 [--naive] [--chromium 2]
//           [--bad-bots 0] [--switch 10] [--bots-per-socket 1] [--join-concurrency 10] [--workers <cores>]
//           [--compare-naive N]   then the naive layout with N units in the same invocation, and the ratios
//   drone   --feeds 8 --duration 30 [--protocol rtmp|whip] [--transcode] [--workers 2]
//   recording --tracks 12 --duration 60 [--video-codec vp8|h264] [--speaker-changes 5] [--baseline 10]
//   sip     --legs 20 --duration 30 [--baseline 5] [--warm-up 8] [--workers 2] [--call-concurrency 4]
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
  if (run.status !== 0) {
    // A scenario that ran but missed its targets wrote its result (with `verdict`): print it, then fail.
    try {
      process.stdout.write(readFileSync(result, 'utf8'));
    } catch {
      // it did not get that far
    }
    process.exit(run.status ?? 1);
  }
  return JSON.parse(readFileSync(result, 'utf8'));
}

/** Parses the subcommand's options (`strings` take a value, `flags` do not); number() reads a numeric one. */
function parseOptions(strings, flags = []) {
  const options = Object.fromEntries([...strings.map((name) => [name, { type: 'string' }]), ...flags.map((name) => [name, { type: 'boolean' }])]);
  const { values } = parseArgs({ allowPositionals: true, options });
  const number = (name) => (values[name] === undefined ? undefined : Number(values[name]));
  return { values, number };
}

if (subcommand === 'join') {
  await import('./join.mjs');
} else if (subcommand === 'meeting') {
  const { values, number } = parseOptions(
    ['units', 'speakers', 'gallery-viewers', 'duration', 'switch', 'chromium', 'bad-bots', 'bots-per-socket', 'join-concurrency', 'workers', 'compare-naive'],
    ['naive'],
  );
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
  const { values, number } = parseOptions(['feeds', 'duration', 'protocol', 'workers'], ['transcode']);
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
} else if (subcommand === 'recording') {
  const { values, number } = parseOptions(['tracks', 'duration', 'video-codec', 'speaker-changes', 'baseline']);
  const videoCodec = values['video-codec'];
  if (videoCodec !== undefined && videoCodec !== 'vp8' && videoCodec !== 'h264') {
    console.error(`--video-codec ${videoCodec}: use vp8 or h264`);
    process.exit(2);
  }
  const measured = runScenario('recording', {
    tracks: number('tracks'),
    durationSeconds: number('duration'),
    videoCodec,
    speakerChanges: number('speaker-changes'),
    baselineSeconds: number('baseline'),
  });
  process.stdout.write(`${JSON.stringify(measured)}\n`);
} else if (subcommand === 'sip') {
  const { number } = parseOptions(['legs', 'duration', 'baseline', 'warm-up', 'workers', 'call-concurrency']);
  const measured = runScenario('sip', {
    legs: number('legs'),
    durationSeconds: number('duration'),
    baselineSeconds: number('baseline'),
    warmUpSeconds: number('warm-up'),
    numWorkers: number('workers'),
    callConcurrency: number('call-concurrency'),
  });
  process.stdout.write(`${JSON.stringify(measured)}\n`);
} else {
  console.error(`unknown benchmark "${subcommand}": use join, meeting, drone, recording or sip`);
  process.exit(2);
}
