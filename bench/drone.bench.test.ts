// The drone relay benchmark (see bench/bots/droneScenario.ts), run by Vitest so that it can use the
// TypeScript sources. Options come as JSON in BENCH_DRONE_OPTIONS (bench/cli.mjs sets it); the
// result goes to bench/results/drone.json, which the CLI prints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { it } from 'vitest';
import { runDroneScenario, type DroneScenarioOptions } from './bots/droneScenario.js';

const RESULT = new URL('./results/drone.json', import.meta.url);
const options = JSON.parse(process.env.BENCH_DRONE_OPTIONS ?? '{}') as Partial<DroneScenarioOptions>;

it('runs the drone relay scenario', async () => {
  const result = await runDroneScenario({ ...options, log: (message) => console.error(`[drone] ${Math.round(performance.now())} ${message}`) });
  mkdirSync(new URL('.', RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), ...result })}\n`);
}, 600_000);
