// Roster work for a 600-participant meeting in Node (the browser's V8 is the same engine): building
// the unit tree, its rows, filling the pinyin initials cache once, and searching with it filled.
// Each step's median over RUNS runs is written to bench/results/roster.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { it } from 'vitest';
import { loadPinyinInitials } from '../web-client/src/lib/pinyinInitials.js';
import { buildRoster, rosterRows, searchRoster, unitPath, warmInitials, type RosterGroup, type RosterMember } from '../web-client/src/lib/roster.js';

const PARTICIPANTS = Number(process.env.BENCH_PARTICIPANTS ?? 600);
const RUNS = 50;
const RESULT = new URL('./results/roster.json', import.meta.url);
const COUNTIES = ['甲县', '乙县', '丙县', '丁县', '戊县', '己县', '庚县', '辛县', '壬县', '癸县', '市直部门'];
const TOWNS = ['城关镇', '东山镇', '西河乡', '南湖街道', '北岭镇', '清水乡', '白石镇', '红旗街道'];

function members(): RosterMember[] {
  return Array.from({ length: PARTICIPANTS }, (_, i) => {
    const county = COUNTIES[i % COUNTIES.length]!;
    const unit = `${county}/${TOWNS[i % TOWNS.length]}${Math.floor(i / TOWNS.length)}人民政府`;
    return {
      id: `p${i}`,
      name: unitPath(unit).at(-1)!,
      unit: unitPath(unit),
      isSelf: i === 0,
      isAdmin: i === 0,
      handRaised: i % 40 === 0,
      microphoneOn: i % 3 === 0,
      cameraOn: i % 2 === 0,
    };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]! * 100) / 100;
}

function time(run: () => unknown): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

it('builds and searches a 600-participant roster', async () => {
  const list = members();
  const initials = await loadPinyinInitials();
  const warmCacheMs = time(() => warmInitials(list, initials));
  const build: number[] = [];
  const rows: number[] = [];
  const search: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let root!: RosterGroup;
    build.push(time(() => (root = buildRoster(list))));
    rows.push(time(() => rosterRows(root, new Set())));
    search.push(time(() => buildRoster(searchRoster(list, 'dsz', initials))));
  }
  const result = {
    participants: PARTICIPANTS,
    runs: RUNS,
    warmInitialsCacheMs: Math.round(warmCacheMs * 100) / 100,
    medianBuildMs: median(build),
    medianRowsMs: median(rows),
    medianWarmSearchAndBuildMs: median(search),
  };
  mkdirSync(new URL('.', RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify(result, null, 2)}\n`);
});
