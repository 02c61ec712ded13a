// The 550-unit meeting benchmark (see bench/bots/meetingScenario.ts), run by Vitest so that it can
// use the TypeScript sources. Options come as JSON in BENCH_MEETING_OPTIONS (bench/cli.mjs sets it);
// the result goes to bench/results/meeting.json, which the CLI prints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { runMeetingScenario, type MeetingScenarioOptions } from './bots/meetingScenario.js';

const RESULT = new URL('./results/meeting.json', import.meta.url);
const options = JSON.parse(process.env.BENCH_MEETING_OPTIONS ?? '{}') as Partial<MeetingScenarioOptions>;

it('runs the meeting scenario', async () => {
  const result = await runMeetingScenario({ ...options, log: (message) => console.error(`[meeting] ${Math.round(performance.now())} ${message}`) });
  // The targets: every unit in, under 1 % loss, every bot and Chromium participant gets the speakers.
  const failures = [
    ...(result.units_joined === result.units ? [] : [`${result.units - result.units_joined} units did not join`]),
    ...(result.loss_pct < 1 ? [] : [`loss ${result.loss_pct} % (target < 1 %)`]),
    ...(result.bots_missing_speaker_media === 0 ? [] : [`${result.bots_missing_speaker_media} bots got no speaker media`]),
    ...(result.chromium_frames_decoded.every((frames) => frames > 0) ? [] : ['a Chromium participant decoded no speaker video']),
  ];
  mkdirSync(new URL('.', RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), options, ...result, verdict: { pass: failures.length === 0, failures } })}\n`);
  expect(failures, 'the meeting missed its targets (see verdict in the JSON)').toEqual([]);
}, 3_600_000);
