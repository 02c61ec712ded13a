import type { Database } from 'better-sqlite3';
import { StoreConflictError, type Account, type AccountRepository, type AccountRole } from '../types.js';
import { applyChanges } from './columns.js';
import { isUniqueViolation } from './constraints.js';

interface AccountRow {
  username: string;
  display_name: string;
  role: AccountRole;
  unit_id: string | null;
  password_hash: string;
  disabled: number;
  created_at: number;
}

const fromRow = (row: AccountRow): Account => ({
  username: row.username,
  displayName: row.display_name,
  role: row.role,
  unitId: row.unit_id,
  passwordHash: row.password_hash,
  disabled: row.disabled !== 0,
  createdAt: row.created_at,
});

const toRow = (account: Account): AccountRow => ({
  username: account.username,
  display_name: account.displayName,
  role: account.role,
  unit_id: account.unitId,
  password_hash: account.passwordHash,
  disabled: account.disabled ? 1 : 0,
  created_at: account.createdAt,
});

export function sqliteAccounts(db: Database): AccountRepository {
  const list = db.prepare<[], AccountRow>('SELECT * FROM accounts ORDER BY username');
  const get = db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE username = ?');
  const insert = db.prepare<[AccountRow]>(
    `INSERT INTO accounts (username, display_name, role, unit_id, password_hash, disabled, created_at)
     VALUES (@username, @display_name, @role, @unit_id, @password_hash, @disabled, @created_at)`,
  );
  const write = db.prepare<[AccountRow]>(
    `UPDATE accounts SET display_name = @display_name, role = @role, unit_id = @unit_id,
       password_hash = @password_hash, disabled = @disabled
     WHERE username = @username`,
  );
  const remove = db.prepare<[string]>('DELETE FROM accounts WHERE username = ?');

  const read = (username: string): Account | undefined => {
    const row = get.get(username);
    return row && fromRow(row);
  };

  return {
    list: () => list.all().map(fromRow),
    get: read,
    create: (account) => {
      try {
        insert.run(toRow(account));
      } catch (error) {
        if (isUniqueViolation(error)) throw new StoreConflictError(`username "${account.username}" is taken: choose another`);
        throw error;
      }
    },
    update: db.transaction((username: string, changes: Partial<Omit<Account, 'username' | 'createdAt'>>) => {
      const current = read(username);
      if (!current) return undefined;
      const updated = applyChanges(current, { ...changes, username, createdAt: current.createdAt });
      write.run(toRow(updated));
      return updated;
    }),
    delete: (username) => remove.run(username).changes > 0,
  };
}
