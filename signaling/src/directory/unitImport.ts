// The unit directory's file formats: CSV (what offices keep in Excel) and JSON (what the API
// speaks), in and out, and the checks an imported directory must pass before it is stored.
//
// Parsing only reads the file's structure; validateUnitDirectory checks the values. Both report
// problems by row: for CSV the line a record starts on (the header is row 1), for JSON the array
// index + 1. Units that come from parseUnitsCsv remember their line, so that validation names it.
import { UNIT_ID_PATTERN, UNIT_LEVELS, type Unit, type UnitLevel } from '../store/types.js';

export interface UnitImportIssue {
  row: number;
  /** The unit property at fault (`parentId`, `level`…), or the CSV column for a missing column. */
  field?: string;
  message: string;
}

/** Reports at most this many issues (a wrong file would otherwise produce one per row). */
export const MAX_IMPORT_ISSUES = 200;
export const MAX_UNIT_NAME_CHARS = 100;

export class UnitImportError extends Error {
  constructor(readonly issues: UnitImportIssue[]) {
    const shown = issues.slice(0, 3).map((issue) => `row ${issue.row}${issue.field ? ` (${issue.field})` : ''}: ${issue.message}`);
    const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more` : '';
    super(`the unit directory has ${issues.length} problem(s): ${shown.join('; ')}${more}`);
    this.name = 'UnitImportError';
  }
}

/** Collects issues up to MAX_IMPORT_ISSUES and throws them all at the end. */
class Issues {
  readonly list: UnitImportIssue[] = [];

  add(row: number, field: string | undefined, message: string): void {
    if (this.list.length < MAX_IMPORT_ISSUES) this.list.push(field === undefined ? { row, message } : { row, field, message });
  }

  get full(): boolean {
    return this.list.length >= MAX_IMPORT_ISSUES;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new UnitImportError(this.list);
  }
}

/** The row each parsed unit came from; units made elsewhere are numbered by array index + 1. */
const sourceRows = new WeakMap<Unit, number>();

// ---- levels -----------------------------------------------------------------------------------

const LEVEL_NAMES: Record<string, UnitLevel> = {
  city: 'city',
  county: 'county',
  town: 'town',
  department: 'department',
  市: 'city',
  县: 'county',
  区: 'county',
  镇: 'town',
  乡: 'town',
  街道: 'town',
  部门: 'department',
};

/** The level a file names (English or Chinese); an unknown name passes through for validation to report. */
function levelOf(text: string): UnitLevel {
  return LEVEL_NAMES[text.trim().toLowerCase()] ?? (text.trim() as UnitLevel);
}

function isLevel(value: unknown): value is UnitLevel {
  return (UNIT_LEVELS as readonly unknown[]).includes(value);
}

// ---- CSV --------------------------------------------------------------------------------------

const REQUIRED_COLUMNS = ['id', 'name', 'level', 'parent_id'] as const;
const OPTIONAL_COLUMNS = ['sort_order', 'sip_uri'] as const;
type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

interface CsvRecord {
  /** The line the record starts on (1-based). */
  line: number;
  fields: string[];
}

/** Splits RFC 4180 text into records; blank lines are skipped. */
function csvRecords(text: string, issues: Issues): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endField = (): void => {
    fields.push(field);
    field = '';
  };
  const endRecord = (): void => {
    endField();
    if (fields.length > 1 || fields[0] !== '') records.push({ line: recordLine, fields });
    fields = [];
    recordLine = line;
  };

  while (i < text.length) {
    const char = text[i]!;
    if (char === '"' && field === '') {
      const quoteLine = line;
      let closed = false;
      i++;
      while (i < text.length) {
        const quoted = text[i]!;
        if (quoted === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        if (quoted === '\n') line++;
        field += quoted;
        i++;
      }
      if (!closed) {
        issues.add(quoteLine, undefined, `a quoted field opened on line ${quoteLine} is never closed: add the closing '"'`);
        return records;
      }
      const after = text[i];
      if (after !== undefined && after !== ',' && after !== '\r' && after !== '\n') {
        issues.add(quoteLine, undefined, `unexpected ${JSON.stringify(after)} after a closing quote: quote the whole field and double the quotes inside it`);
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
      }
      continue;
    }
    if (char === ',') {
      endField();
    } else if (char === '\r' || char === '\n') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      line++;
      endRecord();
    } else {
      field += char;
    }
    i++;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

function integerOf(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  return /^[+-]?\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/**
 * Units from CSV text (a leading BOM is ignored): a header row naming at least the columns id, name,
 * level, parent_id, in any order, and optionally sort_order and sip_uri; other columns are ignored,
 * and so are missing trailing fields. `level` may be English or Chinese (市, 县, 区, 镇, 乡, 街道, 部门).
 */
export function parseUnitsCsv(text: string): Unit[] {
  const issues = new Issues();
  const records = csvRecords(text.replace(/^\uFEFF/, ''), issues);
  issues.throwIfAny();

  const header = records[0];
  if (!header) throw new UnitImportError([{ row: 1, message: `the file is empty: start it with the header row ${REQUIRED_COLUMNS.join(',')}` }]);
  const columns = new Map<Column, number>();
  header.fields.forEach((name, index) => {
    const column = name.trim().toLowerCase() as Column;
    if (([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS] as string[]).includes(column) && !columns.has(column)) columns.set(column, index);
  });
  for (const column of REQUIRED_COLUMNS) {
    if (!columns.has(column)) issues.add(header.line, column, `the header has no "${column}" column: it needs ${REQUIRED_COLUMNS.join(', ')}`);
  }
  issues.throwIfAny();

  const units: Unit[] = [];
  for (const { line, fields } of records.slice(1)) {
    if (issues.full) break;
    const value = (column: Column): string => {
      const index = columns.get(column);
      return index === undefined ? '' : (fields[index] ?? '');
    };
    const sortOrder = integerOf(value('sort_order'));
    if (sortOrder === undefined) issues.add(line, 'sortOrder', `sort_order "${value('sort_order')}" is not a whole number`);
    const parentId = value('parent_id').trim();
    const sipUri = value('sip_uri').trim();
    const unit: Unit = {
      id: value('id').trim(),
      name: value('name').trim(),
      level: levelOf(value('level')),
      parentId: parentId === '' ? null : parentId,
      sortOrder: sortOrder ?? 0,
      sipUri: sipUri === '' ? null : sipUri,
    };
    sourceRows.set(unit, line);
    units.push(unit);
  }
  issues.throwIfAny();
  return units;
}

const CSV_HEADER = ['id', 'name', 'level', 'parent_id', 'sort_order', 'sip_uri'];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The directory as CSV that Excel opens as UTF-8 (BOM, CRLF) and parseUnitsCsv reads back. */
export function unitsToCsv(units: Unit[]): string {
  const rows = units.map((unit) => [unit.id, unit.name, unit.level, unit.parentId ?? '', String(unit.sortOrder), unit.sipUri ?? '']);
  return `\uFEFF${[CSV_HEADER, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

// ---- JSON -------------------------------------------------------------------------------------

/**
 * Units from parsed JSON: an array, or `{ items: [...] }`, of objects with id, name, level,
 * parentId (or parent_id), and optionally sortOrder (or sort_order) and sipUri (or sip_uri).
 */
export function parseUnitsJson(value: unknown): Unit[] {
  const items = Array.isArray(value) ? value : isObject(value) && Array.isArray(value.items) ? value.items : undefined;
  if (!items) throw new UnitImportError([{ row: 1, message: 'expected an array of units, or an object { "items": [...] }' }]);
  const issues = new Issues();
  const units: Unit[] = [];
  items.forEach((item: unknown, index) => {
    const row = index + 1;
    if (!isObject(item)) {
      issues.add(row, undefined, `expected a unit object, got ${JSON.stringify(item) ?? String(item)}`);
      return;
    }
    const text = (field: string, raw: unknown, optional: boolean): string | null => {
      if (raw === undefined || raw === null || raw === '') {
        if (!optional) issues.add(row, field, `"${field}" is missing`);
        return null;
      }
      if (typeof raw !== 'string') {
        issues.add(row, field, `"${field}" must be a string, got ${JSON.stringify(raw)}`);
        return null;
      }
      return raw.trim() === '' && optional ? null : raw.trim();
    };
    const rawSortOrder = item.sortOrder ?? item.sort_order ?? 0;
    if (!Number.isSafeInteger(rawSortOrder)) issues.add(row, 'sortOrder', `"sortOrder" must be a whole number, got ${JSON.stringify(rawSortOrder)}`);
    const level = text('level', item.level, false);
    units.push({
      id: text('id', item.id, false) ?? '',
      name: text('name', item.name, true) ?? '',
      level: level === null ? ('' as UnitLevel) : levelOf(level),
      parentId: text('parentId', item.parentId ?? item.parent_id, true),
      sortOrder: Number.isSafeInteger(rawSortOrder) ? (rawSortOrder as number) : 0,
      sipUri: text('sipUri', item.sipUri ?? item.sip_uri, true),
    });
  });
  issues.throwIfAny();
  return units;
}

/** The directory as the JSON parseUnitsJson reads back (the shape of GET /api/units). */
export function unitsToJson(units: Unit[]): { items: Unit[] } {
  return { items: units.map((unit) => ({ ...unit })) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- validation -------------------------------------------------------------------------------

/** The levels a unit's parent may have; null stands for "no parent" (a root). */
const ALLOWED_PARENTS: Record<UnitLevel, readonly (UnitLevel | null)[] | 'any'> = {
  city: [null],
  county: ['city'],
  town: ['county'],
  department: 'any',
};

const LEVEL_RULES: Record<UnitLevel, string> = {
  city: 'a city is a root: leave its parent empty',
  county: "a county's parent must be a city",
  town: "a town's parent must be a county",
  department: '',
};

/**
 * Checks `incoming` before it is stored: in 'merge' mode on top of the `existing` directory (units
 * with the same id are replaced), in 'replace' mode instead of it. Throws UnitImportError with
 * every problem found (up to MAX_IMPORT_ISSUES); returns if there is none.
 */
export function validateUnitDirectory(incoming: Unit[], existing: Unit[], mode: 'merge' | 'replace'): void {
  const issues = new Issues();
  const rowOf = (index: number): number => sourceRows.get(incoming[index]!) ?? index + 1;

  const firstRow = new Map<string, number>();
  const incomingById = new Map<string, Unit>();
  incoming.forEach((unit, index) => {
    const row = rowOf(index);
    if (typeof unit.id !== 'string' || !UNIT_ID_PATTERN.test(unit.id)) {
      issues.add(row, 'id', `unit id "${unit.id}" is invalid: use 1–64 letters, digits, '_', '.' or '-'`);
    } else if (firstRow.has(unit.id)) {
      issues.add(row, 'id', `unit id "${unit.id}" appears twice: on row ${firstRow.get(unit.id)} and on row ${row}`);
    } else {
      firstRow.set(unit.id, row);
      incomingById.set(unit.id, unit);
    }
    const nameChars = typeof unit.name === 'string' ? [...unit.name.trim()].length : 0;
    if (nameChars === 0) issues.add(row, 'name', `unit "${unit.id}" has no name`);
    if (nameChars > MAX_UNIT_NAME_CHARS) {
      issues.add(row, 'name', `name "${unit.name}" has ${nameChars} characters: at most ${MAX_UNIT_NAME_CHARS} are allowed`);
    }
    if (!isLevel(unit.level)) {
      issues.add(row, 'level', `level "${unit.level}" is unknown: use city, county, town or department (市, 县/区, 镇/乡/街道, 部门)`);
    }
    if (!Number.isSafeInteger(unit.sortOrder)) issues.add(row, 'sortOrder', `sortOrder "${unit.sortOrder}" is not a whole number`);
  });

  // The directory as it would be after the import.
  const merged = new Map<string, Unit>(mode === 'merge' ? existing.map((unit) => [unit.id, unit]) : []);
  for (const [id, unit] of incomingById) merged.set(id, unit);

  incoming.forEach((unit, index) => {
    if (issues.full || incomingById.get(unit.id) !== unit) return;
    const row = rowOf(index);
    const parent = unit.parentId === null ? null : merged.get(unit.parentId);
    if (parent === undefined) {
      const where = mode === 'merge' ? 'neither in the file nor in the directory' : 'not in the file (replace mode replaces the whole directory)';
      issues.add(row, 'parentId', `parent "${unit.parentId}" of unit "${unit.id}" is ${where}`);
      return;
    }
    const cycle = ancestorCycle(unit, merged);
    if (cycle) {
      issues.add(row, 'parentId', `unit "${unit.id}" would be its own ancestor: ${cycle.join(' → ')}`);
      return;
    }
    if (!isLevel(unit.level)) return;
    const allowed = ALLOWED_PARENTS[unit.level];
    if (allowed !== 'any' && !allowed.includes(parent?.level ?? null)) {
      const actual = parent ? `parent "${parent.id}" is a ${parent.level}` : 'it has no parent';
      issues.add(row, 'parentId', `unit "${unit.id}" is a ${unit.level} and ${actual}: ${LEVEL_RULES[unit.level]}`);
    }
  });
  issues.throwIfAny();
}

/** The ids from `unit` up to itself again if it is its own ancestor in `directory`; else null. */
function ancestorCycle(unit: Unit, directory: Map<string, Unit>): string[] | null {
  const chain = [unit.id];
  const seen = new Set(chain);
  for (let parentId = unit.parentId; parentId !== null; ) {
    chain.push(parentId);
    if (parentId === unit.id) return chain;
    if (seen.has(parentId)) return null; // a cycle above this unit: reported on its own units
    seen.add(parentId);
    parentId = directory.get(parentId)?.parentId ?? null;
  }
  return null;
}
