// The SIP legs benchmark (see bench/bots/sipScenario.ts), run by Vitest so that it can use the
// TypeScript sources. Options come as JSON in BENCH_SIP_OPTIONS (bench/cli.mjs sets it); the
// result goes to bench/results/sip.json, which the CLI prints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { liveFfmpegCount } from '@cityconf/sfu';
import { expect, it } from 'vitest';
import { runSipScenario, type SipScenarioOptions } from './bots/sipScenario.js';

const RESULT = new URL('./results/sip.json', import.meta.url);
const options = JSON.parse(process.env.BENCH_SIP_OPTIONS ?? '{}') as Partial<SipScenarioOptions>;

it('runs the SIP legs scenario', async () => {
  const result = await runSipScenario({ ...options, log: (message) => console.error(`[sip] ${Math.round(performance.now())} ${message}`) });
  expect(liveFfmpegCount()).toBe(0);
  mkdirSync(new URL('.', RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), ...result })}\n`);
}, 900_000);
