// The recording cost benchmark (see bench/bots/recordingScenario.ts), run by Vitest so that it can
// use the TypeScript sources. Options come as JSON in BENCH_RECORDING_OPTIONS (bench/cli.mjs sets
// it); the result goes to bench/results/recording.json, which the CLI prints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { liveFfmpegCount } from '@cityconf/sfu';
import { expect, it } from 'vitest';
import { runRecordingScenario, type RecordingScenarioOptions } from './bots/recordingScenario.js';

const RESULT = new URL('./results/recording.json', import.meta.url);
const options = JSON.parse(process.env.BENCH_RECORDING_OPTIONS ?? '{}') as Partial<RecordingScenarioOptions>;

it('runs the recording scenario', async () => {
  const result = await runRecordingScenario({ ...options, log: (message) => console.error(`[recording] ${Math.round(performance.now())} ${message}`) });
  expect(liveFfmpegCount()).toBe(0);
  mkdirSync(new URL('.', RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), ...result })}\n`);
}, 900_000);
