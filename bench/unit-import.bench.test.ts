// Importing the unit directory (单位目录) as the admin API does: parse a CSV file, validate it, and
// store it with replaceAll into a fresh SQLite file (WAL, as the server opens it). Runs for the
// 600-unit sample and a 5,000-unit directory; p50/p95 over RUNS runs go to
// bench/results/unit-import.json. Target: ≥ 550 units imported in < 2 s.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { parseUnitsCsv, validateUnitDirectory } from '../signaling/src/directory/unitImport.js';
import { openSqliteStore } from '../signaling/src/store/index.js';
import { sampleDirectoryCsv, type SampleDirectoryOptions } from '../signaling/test/unitDirectory.js';

const RUNS = 30;
const RESULT = new URL('./results/unit-import.json', import.meta.url);
const SIZES: Record<string, SampleDirectoryOptions> = {
  sample: {},
  large: { counties: 40, townsPerCounty: 100, departmentsPerLevel: 25 },
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}

function importOnce(csv: string, dir: string, run: number): { parseMs: number; validateMs: number; storeMs: number; units: number } {
  const start = performance.now();
  const units = parseUnitsCsv(csv);
  const parsed = performance.now();
  validateUnitDirectory(units, [], 'replace');
  const validated = performance.now();
  const store = openSqliteStore(join(dir, `run-${run}.db`));
  try {
    store.transaction(() => store.units.replaceAll(units));
  } finally {
    store.close();
  }
  const stored = performance.now();
  return { parseMs: parsed - start, validateMs: validated - parsed, storeMs: stored - validated, units: units.length };
}

it('imports a 600-unit and a 5,000-unit directory CSV into a fresh SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cityconf-bench-units-'));
  const result: Record<string, unknown> = { runs: RUNS };
  try {
    for (const [name, options] of Object.entries(SIZES)) {
      const csv = sampleDirectoryCsv(options);
      const runs = Array.from({ length: RUNS }, (_, run) => importOnce(csv, dir, run + (name === 'sample' ? 0 : RUNS)));
      const totals = runs.map((run) => run.parseMs + run.validateMs + run.storeMs);
      result[name] = {
        units: runs[0]!.units,
        csvBytes: Buffer.byteLength(csv),
        p50TotalMs: percentile(totals, 50),
        p95TotalMs: percentile(totals, 95),
        p50ParseMs: percentile(runs.map((run) => run.parseMs), 50),
        p50ValidateMs: percentile(runs.map((run) => run.validateMs), 50),
        p50StoreMs: percentile(runs.map((run) => run.storeMs), 50),
      };
      if (name === 'sample') expect(percentile(totals, 95)).toBeLessThan(2000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(new URL('.', RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify(result, null, 2)}\n`);
});
