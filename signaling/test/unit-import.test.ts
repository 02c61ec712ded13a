// The unit directory's import and export (CSV, JSON), its validation with row-numbered issues, the
// tree built from it, and storing an import: all of it or nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_IMPORT_ISSUES,
  parseUnitsCsv,
  parseUnitsJson,
  UnitImportError,
  unitsToCsv,
  unitsToJson,
  validateUnitDirectory,
  type UnitImportIssue,
} from '../src/directory/unitImport.js';
import { UnitTree } from '../src/directory/unitTree.js';
import { openSqliteStore, type Store, type Unit } from '../src/store/index.js';
import { SAMPLE_CITY, sampleDirectory, sampleDirectoryCsv } from './unitDirectory.js';

const HEADER = 'id,name,level,parent_id';

/** The issues `run` throws as a UnitImportError (fails the test if it throws nothing or something else). */
function issuesOf(run: () => unknown): UnitImportIssue[] {
  try {
    run();
  } catch (error) {
    if (error instanceof UnitImportError) return error.issues;
    throw error;
  }
  throw new Error('expected a UnitImportError, but nothing was thrown');
}

const csv = (...lines: string[]): string => `${lines.join('\n')}\n`;
const importCsv = (text: string, existing: Unit[] = [], mode: 'merge' | 'replace' = 'replace'): Unit[] => {
  const units = parseUnitsCsv(text);
  validateUnitDirectory(units, existing, mode);
  return units;
};

describe('sample directory', () => {
  it('has more than 600 units with real-looking names, the same every time', () => {
    const units = sampleDirectory();
    expect(units).toHaveLength(633);
    expect(sampleDirectory()).toEqual(units);
    expect(units.filter((u) => u.level === 'town')).toHaveLength(360);
    expect(units.map((u) => u.name)).toEqual(expect.arrayContaining(['江州市', '市委办公室', '甲县', '甲县教育局', '甲县城关镇人民政府', '甲县南湖街道办事处']));
    expect(() => validateUnitDirectory(units, [], 'replace')).not.toThrow();
    expect(new Set(units.map((u) => u.id)).size).toBe(units.length);
  });

  it('scales', () => {
    expect(sampleDirectory({ counties: 40, townsPerCounty: 100, departmentsPerLevel: 25 })).toHaveLength(1 + 25 + 40 * 126);
  });
});

describe('CSV import', () => {
  it('reads the 600-unit sample as an office exports it (BOM, CRLF, Chinese levels, extra column)', () => {
    const units = importCsv(sampleDirectoryCsv());
    expect(units).toEqual(sampleDirectory());
  });

  it('round-trips the directory through unitsToCsv', () => {
    const units = sampleDirectory();
    const text = unitsToCsv(units);
    expect(text.startsWith('\uFEFFid,name,level,parent_id,sort_order,sip_uri\r\n')).toBe(true);
    expect(text.split('\r\n')[2]).toBe('city.d01,市委办公室,department,city,1,');
    expect(importCsv(text)).toEqual(units);
  });

  it('quotes and reads back commas, quotes and newlines', () => {
    const tricky: Unit[] = [
      { id: 'city', name: '江州市, "市本级"', level: 'city', parentId: null, sortOrder: -1, sipUri: 'sip:a,b@x' },
      { id: 'd1', name: '第一行\r\n第二行', level: 'department', parentId: 'city', sortOrder: 0, sipUri: null },
      { id: 'd2', name: '部门\n二', level: 'department', parentId: 'city', sortOrder: 3, sipUri: null },
    ];
    const text = unitsToCsv(tricky);
    expect(text).toBe(
      '\uFEFFid,name,level,parent_id,sort_order,sip_uri\r\n' +
        'city,"江州市, ""市本级""",city,,-1,"sip:a,b@x"\r\n' +
        'd1,"第一行\r\n第二行",department,city,0,\r\n' +
        'd2,"部门\n二",department,city,3,\r\n',
    );
    expect(parseUnitsCsv(text)).toEqual(tricky);
  });

  it('takes the columns in any order, ignores unknown ones, maps Chinese levels and tolerates short rows', () => {
    const units = importCsv(
      csv(
        'parent_id,备注,LEVEL,name,id',
        ',市本级,市,江州市,city',
        'city,,区,东湖区,c1',
        'c1,,街道,东湖区南湖街道办事处,t1',
        'c1,,镇,东湖区白石镇人民政府,t2',
        'city,,部门,市应急管理局,d1',
        'city,,县,甲县,c2',
        'c2,,乡,甲县清水乡人民政府,t3',
        '',
        'c2,,department,甲县财政局,d2',
      ),
    );
    expect(units.map((u) => [u.id, u.level, u.parentId, u.sortOrder, u.sipUri])).toEqual([
      ['city', 'city', null, 0, null],
      ['c1', 'county', 'city', 0, null],
      ['t1', 'town', 'c1', 0, null],
      ['t2', 'town', 'c1', 0, null],
      ['d1', 'department', 'city', 0, null],
      ['c2', 'county', 'city', 0, null],
      ['t3', 'town', 'c2', 0, null],
      ['d2', 'department', 'c2', 0, null],
    ]);
    expect(parseUnitsCsv('id,name,level,parent_id,sort_order\r\ncity,江州市,city\r\n')).toEqual([
      { id: 'city', name: '江州市', level: 'city', parentId: null, sortOrder: 0, sipUri: null },
    ]);
  });

  it('reports structural problems with their line', () => {
    expect(issuesOf(() => parseUnitsCsv(''))).toEqual([{ row: 1, message: 'the file is empty: start it with the header row id,name,level,parent_id' }]);
    expect(issuesOf(() => parseUnitsCsv('\uFEFFid,名称,level\r\ncity,江州市,city\r\n'))).toEqual([
      { row: 1, field: 'name', message: 'the header has no "name" column: it needs id, name, level, parent_id' },
      { row: 1, field: 'parent_id', message: 'the header has no "parent_id" column: it needs id, name, level, parent_id' },
    ]);
    expect(issuesOf(() => parseUnitsCsv(csv(HEADER, 'city,江州市,city,', 'd1,"市教育局,city,department,city')))).toEqual([
      { row: 3, message: `a quoted field opened on line 3 is never closed: add the closing '"'` },
    ]);
    expect(issuesOf(() => parseUnitsCsv(csv(HEADER, 'city,"江州"市,city,')))).toEqual([
      { row: 2, message: 'unexpected "市" after a closing quote: quote the whole field and double the quotes inside it' },
    ]);
    expect(issuesOf(() => parseUnitsCsv(csv(`${HEADER},sort_order`, 'city,江州市,city,,1', 'd1,市教育局,department,city,第二', 'd2,市公安局,department,city,2.5')))).toEqual([
      { row: 3, field: 'sortOrder', message: 'sort_order "第二" is not a whole number' },
      { row: 4, field: 'sortOrder', message: 'sort_order "2.5" is not a whole number' },
    ]);
  });

  it('names every invalid value with its line, counting lines inside quoted fields', () => {
    const text = csv(
      HEADER, // 1
      'city,江州市,city,', // 2
      'c1,"甲县', // 3: the name goes on to line 4
      '（原甲镇）",county,city', // 4
      'bad id,乙县,county,city', // 5
      'c1,甲县重复,county,city', // 6
      'c3,,county,city', // 7
      `c4,${'长'.repeat(101)},county,city`, // 8
      'c5,丁县,province,city', // 9
      't1,某镇,镇,nowhere', // 10
      't2,某镇,镇,city', // 11
      'c6,戊县,county,', // 12
      'city2,另一市,city,city', // 13
      'd1,部门甲,部门,d2', // 14
      'd2,部门乙,部门,d1', // 15
      'd3,部门丙,department,d3', // 16
      'd4,部门丁,department,', // 17: a root department is fine
      't3,某街道,街道,d4', // 18
    );
    expect(issuesOf(() => importCsv(text))).toEqual([
      { row: 5, field: 'id', message: `unit id "bad id" is invalid: use 1–64 letters, digits, '_', '.' or '-'` },
      { row: 6, field: 'id', message: 'unit id "c1" appears twice: on row 3 and on row 6' },
      { row: 7, field: 'name', message: 'unit "c3" has no name' },
      { row: 8, field: 'name', message: `name "${'长'.repeat(101)}" has 101 characters: at most 100 are allowed` },
      { row: 9, field: 'level', message: 'level "province" is unknown: use city, county, town or department (市, 县/区, 镇/乡/街道, 部门)' },
      { row: 10, field: 'parentId', message: 'parent "nowhere" of unit "t1" is not in the file (replace mode replaces the whole directory)' },
      { row: 11, field: 'parentId', message: 'unit "t2" is a town and parent "city" is a city: a town\'s parent must be a county' },
      { row: 12, field: 'parentId', message: 'unit "c6" is a county and it has no parent: a county\'s parent must be a city' },
      { row: 13, field: 'parentId', message: 'unit "city2" is a city and parent "city" is a city: a city is a root: leave its parent empty' },
      { row: 14, field: 'parentId', message: 'unit "d1" would be its own ancestor: d1 → d2 → d1' },
      { row: 15, field: 'parentId', message: 'unit "d2" would be its own ancestor: d2 → d1 → d2' },
      { row: 16, field: 'parentId', message: 'unit "d3" would be its own ancestor: d3 → d3' },
      { row: 18, field: 'parentId', message: 'unit "t3" is a town and parent "d4" is a department: a town\'s parent must be a county' },
    ]);
  });

  it('stops at MAX_IMPORT_ISSUES issues', () => {
    const rows = Array.from({ length: 500 }, (_, i) => `bad id ${i},名称,city,`);
    const issues = issuesOf(() => importCsv(csv(HEADER, ...rows)));
    expect(issues).toHaveLength(MAX_IMPORT_ISSUES);
    expect(issues.at(-1)?.row).toBe(MAX_IMPORT_ISSUES + 1);
  });
});

describe('merge and replace', () => {
  const existing = sampleDirectory({ counties: 2, townsPerCounty: 2, departmentsPerLevel: 1 });

  it('finds parents in the existing directory in merge mode only', () => {
    const incoming = parseUnitsCsv(csv(HEADER, 'c01.t99,甲县新镇,town,c01'));
    expect(() => validateUnitDirectory(incoming, existing, 'merge')).not.toThrow();
    expect(issuesOf(() => validateUnitDirectory(incoming, existing, 'replace'))).toEqual([
      { row: 2, field: 'parentId', message: 'parent "c01" of unit "c01.t99" is not in the file (replace mode replaces the whole directory)' },
    ]);
    expect(issuesOf(() => validateUnitDirectory(parseUnitsCsv(csv(HEADER, 'x,某镇,town,c77')), existing, 'merge'))).toEqual([
      { row: 2, field: 'parentId', message: 'parent "c77" of unit "x" is neither in the file nor in the directory' },
    ]);
  });

  it('checks an update of an existing unit against the directory as it would become', () => {
    // Moving the city under one of its own counties would make a cycle through the stored units.
    const city: Unit = { ...existing[0]!, level: 'department', parentId: 'c01' };
    expect(issuesOf(() => validateUnitDirectory([city], existing, 'merge'))).toEqual([
      { row: 1, field: 'parentId', message: 'unit "city" would be its own ancestor: city → c01 → city' },
    ]);
    // Renaming a unit in place is fine: it is not a duplicate of itself.
    expect(() => validateUnitDirectory([{ ...existing[1]!, name: '新名称' }], existing, 'merge')).not.toThrow();
  });
});

describe('JSON import', () => {
  it('reads an array or { items }, with camelCase or snake_case keys, and round-trips unitsToJson', () => {
    const units = sampleDirectory();
    expect(parseUnitsJson(JSON.parse(JSON.stringify(unitsToJson(units))))).toEqual(units);
    expect(
      parseUnitsJson([
        { id: 'city', name: '江州市', level: '市', parent_id: null },
        { id: 'c1', name: ' 甲县 ', level: 'county', parentId: 'city', sort_order: 4, sip_uri: 'sip:c1@x' },
      ]),
    ).toEqual([
      { id: 'city', name: '江州市', level: 'city', parentId: null, sortOrder: 0, sipUri: null },
      { id: 'c1', name: '甲县', level: 'county', parentId: 'city', sortOrder: 4, sipUri: 'sip:c1@x' },
    ]);
  });

  it('reports problems by array index + 1', () => {
    expect(issuesOf(() => parseUnitsJson({ units: [] }))).toEqual([{ row: 1, message: 'expected an array of units, or an object { "items": [...] }' }]);
    expect(issuesOf(() => parseUnitsJson([{ id: 'city', name: '江州市', level: 'city' }, 'c1', { name: 7, level: 'county', sortOrder: 1.5 }]))).toEqual([
      { row: 2, message: 'expected a unit object, got "c1"' },
      { row: 3, field: 'sortOrder', message: '"sortOrder" must be a whole number, got 1.5' },
      { row: 3, field: 'id', message: '"id" is missing' },
      { row: 3, field: 'name', message: '"name" must be a string, got 7' },
    ]);
    const units = parseUnitsJson([{ id: 'city', name: '江州市', level: 'city' }, { id: 'x', name: '某县', level: 'county', parentId: 'y' }]);
    expect(issuesOf(() => validateUnitDirectory(units, [], 'replace'))).toEqual([
      { row: 2, field: 'parentId', message: 'parent "y" of unit "x" is not in the file (replace mode replaces the whole directory)' },
    ]);
  });
});

describe('unit tree', () => {
  const tree = new UnitTree(sampleDirectory({ counties: 2, townsPerCounty: 3, departmentsPerLevel: 2 }));

  it('orders children by sortOrder, then by name in pinyin order', () => {
    const sorted = new UnitTree([
      { id: 'r', name: '根', level: 'city', parentId: null, sortOrder: 0, sipUri: null },
      { id: 'a', name: '张家镇', level: 'town', parentId: 'r', sortOrder: 1, sipUri: null },
      { id: 'b', name: '安平镇', level: 'town', parentId: 'r', sortOrder: 1, sipUri: null },
      { id: 'c', name: '北关镇', level: 'town', parentId: 'r', sortOrder: 1, sipUri: null },
      { id: 'd', name: '最后', level: 'town', parentId: 'r', sortOrder: 2, sipUri: null },
      { id: 'e', name: '最先', level: 'town', parentId: 'r', sortOrder: 0, sipUri: null },
    ]);
    expect(sorted.children('r').map((u) => u.name)).toEqual(['最先', '安平镇', '北关镇', '张家镇', '最后']);
  });

  it('walks subtrees and paths', () => {
    expect(tree.roots().map((u) => u.id)).toEqual([SAMPLE_CITY.id]);
    expect(tree.children('c01').map((u) => u.id)).toEqual(['c01.d01', 'c01.d02', 'c01.t01', 'c01.t02', 'c01.t03']);
    expect(tree.subtreeIds('c02')).toEqual(['c02', 'c02.d01', 'c02.d02', 'c02.t01', 'c02.t02', 'c02.t03']);
    expect(tree.subtreeIds('city')).toHaveLength(1 + 2 + 2 * 6);
    expect(tree.subtreeIds('unknown')).toEqual([]);
    expect(tree.path('c02.t03').map((u) => u.id)).toEqual(['city', 'c02', 'c02.t03']);
    expect(tree.pathName('c02.t03')).toBe('江州市/乙县/乙县西河镇人民政府');
    expect(tree.pathName('unknown')).toBe('');
  });

  it('keeps units with a missing parent as roots and never loops on a cycle', () => {
    const odd = new UnitTree([
      { id: 'a', name: 'A', level: 'department', parentId: 'gone', sortOrder: 0, sipUri: null },
      { id: 'x', name: 'X', level: 'department', parentId: 'y', sortOrder: 0, sipUri: null },
      { id: 'y', name: 'Y', level: 'department', parentId: 'x', sortOrder: 0, sipUri: null },
    ]);
    expect(odd.roots().map((u) => u.id)).toEqual(['a']);
    expect(odd.path('x').map((u) => u.id)).toEqual(['y', 'x']);
    expect(odd.subtreeIds('x')).toEqual(['x', 'y']);
  });
});

describe('storing an import', () => {
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cityconf-units-'));
    store = openSqliteStore(join(dir, 'cityconf.db'));
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What the admin API does: parse, validate against the stored directory, store in one go. */
  function importInto(text: string, mode: 'merge' | 'replace'): void {
    const incoming = parseUnitsCsv(text);
    validateUnitDirectory(incoming, store.units.list(), mode);
    store.transaction(() => (mode === 'replace' ? store.units.replaceAll(incoming) : store.units.upsertMany(incoming)));
  }

  it('stores the 600-unit sample and exports it again unchanged', () => {
    importInto(sampleDirectoryCsv(), 'replace');
    expect(store.units.count()).toBe(633);
    expect(parseUnitsCsv(unitsToCsv(store.units.list()))).toEqual(sampleDirectory());
  });

  it('applies nothing from a file with any problem', () => {
    importInto(sampleDirectoryCsv(), 'replace');
    const before = store.units.list();
    const broken = [
      csv(HEADER, 'c01.t99,新镇,town,c01', 'c01.t98,坏镇,town,nowhere'),
      csv(HEADER, 'c01,甲县改名,county,city', 'c01,重复,county,city'),
      csv(HEADER, 'c01.t99,"新镇,town,c01'),
      csv('id,name,level', 'c01.t99,新镇,town'),
    ];
    for (const text of broken) {
      expect(() => importInto(text, 'merge')).toThrow(UnitImportError);
      expect(() => importInto(text, 'replace')).toThrow(UnitImportError);
    }
    expect(store.units.list()).toEqual(before);
  });

  it('merges into and replaces the stored directory', () => {
    importInto(sampleDirectoryCsv(), 'replace');
    importInto(csv(HEADER, 'c01,甲县（更名）,county,city', 'c01.t99,甲县新镇人民政府,town,c01'), 'merge');
    expect(store.units.count()).toBe(634);
    expect(store.units.get('c01')?.name).toBe('甲县（更名）');
    importInto(csv(HEADER, 'city,江州市,city,', 'c01,甲县,county,city'), 'replace');
    expect(store.units.list().map((u) => u.id)).toEqual(['city', 'c01']);
  });
});
