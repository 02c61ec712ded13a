import type { Database } from 'better-sqlite3';
import { StoreConflictError, type Unit, type UnitLevel, type UnitRepository } from '../types.js';

interface UnitRow {
  id: string;
  name: string;
  level: UnitLevel;
  parent_id: string | null;
  sort_order: number;
  sip_uri: string | null;
}

const fromRow = (row: UnitRow): Unit => ({
  id: row.id,
  name: row.name,
  level: row.level,
  parentId: row.parent_id,
  sortOrder: row.sort_order,
  sipUri: row.sip_uri,
});

const toRow = (unit: Unit): UnitRow => ({
  id: unit.id,
  name: unit.name,
  level: unit.level,
  parent_id: unit.parentId,
  sort_order: unit.sortOrder,
  sip_uri: unit.sipUri,
});

/** Units in the order they were first stored (the tree orders siblings: see UnitTree). */
export function sqliteUnits(db: Database): UnitRepository {
  const list = db.prepare<[], UnitRow>('SELECT * FROM units ORDER BY rowid');
  const get = db.prepare<[string], UnitRow>('SELECT * FROM units WHERE id = ?');
  const upsert = db.prepare<[UnitRow]>(
    `INSERT INTO units (id, name, level, parent_id, sort_order, sip_uri)
     VALUES (@id, @name, @level, @parent_id, @sort_order, @sip_uri)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, level = excluded.level, parent_id = excluded.parent_id,
       sort_order = excluded.sort_order, sip_uri = excluded.sip_uri`,
  );
  const deleteAll = db.prepare('DELETE FROM units');
  const remove = db.prepare<[string]>('DELETE FROM units WHERE id = ?');
  const children = db.prepare<[string], { id: string }>('SELECT id FROM units WHERE parent_id = ? ORDER BY rowid');
  const orphans = db.prepare<[], { id: string; parent_id: string }>(
    `SELECT u.id, u.parent_id FROM units u
     WHERE u.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM units p WHERE p.id = u.parent_id) LIMIT 5`,
  );
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM units');

  /** Checked inside the transaction, so that a bad import rolls back with a useful message. */
  const assertNoOrphans = (): void => {
    const found = orphans.all();
    if (found.length === 0) return;
    const named = found.map((row) => `"${row.id}" (parent "${row.parent_id}")`).join(', ');
    throw new Error(`unit directory change rolled back: units whose parent does not exist: ${named}; run validateUnitDirectory first`);
  };

  const upsertMany = db.transaction((units: Unit[]) => {
    for (const unit of units) upsert.run(toRow(unit));
    assertNoOrphans();
  });
  const replaceAll = db.transaction((units: Unit[]) => {
    deleteAll.run();
    for (const unit of units) upsert.run(toRow(unit));
    assertNoOrphans();
  });

  return {
    list: () => list.all().map(fromRow),
    get: (id) => {
      const row = get.get(id);
      return row && fromRow(row);
    },
    upsertMany: (units) => upsertMany(units),
    replaceAll: (units) => replaceAll(units),
    delete: (id) => {
      const kids = children.all(id);
      if (kids.length > 0) {
        const named = kids.slice(0, 5).map((kid) => `"${kid.id}"`).join(', ');
        throw new StoreConflictError(`unit "${id}" still has ${kids.length} child unit(s) (${named}): delete or move them first`);
      }
      return remove.run(id).changes > 0;
    },
    count: () => count.get()!.n,
  };
}
