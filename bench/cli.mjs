#!/usr/bin/env node
// `npm run bench -- [join|meeting] [options]`: the join control-plane benchmark (default) or the
// meeting load benchmark with simulated units. Each prints one JSON object as its last stdout line.
//   join    --participants 40 --workers 1
//   meeting --units 550 --speakers 2 --gallery-viewers 6 --duration 60 [--naive] [--chromium 2]
//           [--bad-bots 0] [--switch 10] [--bots-per-socket 1] [--join-concurrency 10] [--workers <cores>]
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
  rmSync(result, { force: true });
  const root = fileURLToPath(new URL('..', import.meta.url));
  // Vitest's own output goes to stderr so that stdout ends with the JSON line.
  const run = spawnSync('npx', ['--no-install', 'vitest', 'run', '--config', 'bench/vitest.config.ts', 'bench/meeting.bench.test.ts'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, BENCH_MEETING_OPTIONS: JSON.stringify(options) },
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
  process.stdout.write(readFileSync(result, 'utf8'));
} else {
  console.error(`unknown benchmark "${subcommand}": use join or meeting`);
  process.exit(2);
}
