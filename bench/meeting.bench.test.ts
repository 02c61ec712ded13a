// The 550-unit meeting benchmark (see bench/bots/meetingScenario.ts), run by Vitest so that it can
// use the TypeScript sources. Options come as JSON in BENCH_MEETING_OPTIONS (bench/cli.mjs sets it);
// the result goes to bench/results/meeting.json, which the CLI prints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { it } from 'vitest';
import { runMeetingScenario, type MeetingScenarioOptions } from './bots/meetingScenario.js';

const RESULT = new URL('./results/meeting.json', import.meta.url);
const options = JSON.parse(process.env.BENCH_MEETING_OPTIONS ?? '{}') as Partial<MeetingScenarioOptions>;

it('runs the meeting scenario', async () => {
  const result = await runMeetingScenario({ ...options, log: (message) => console.error(`[meeting] ${Math.round(performance.now())} ${message}`) });
  mkdirSync(new URL('.', RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), options, ...result })}\n`);
}, 3_600_000);
