// The embedded store: one SQLite file (WAL), opened and migrated at startup. Every repository
// prepares its statements once, here.
import Database from 'better-sqlite3';
import type { Store } from '../types.js';
import { sqliteAccounts } from './accounts.js';
import { sqliteAttendance } from './attendance.js';
import { sqliteCascadeTargets } from './cascadeTargets.js';
import { sqliteChat } from './chat.js';
import { sqliteFeeds } from './feeds.js';
import { sqliteMeetings } from './meetings.js';
import { migrate } from './migrations.js';
import { sqliteUnits } from './units.js';
import { sqliteWebhookDeliveries } from './webhookDeliveries.js';

/** Opens (creating if needed) and migrates the database at `file`; ':memory:' for a throwaway one. */
export function openSqliteStore(file: string): Store {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    // WAL with NORMAL survives a crash of the server; a power cut may lose the last transactions.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }

  return {
    units: sqliteUnits(db),
    feeds: sqliteFeeds(db),
    cascadeTargets: sqliteCascadeTargets(db),
    accounts: sqliteAccounts(db),
    meetings: sqliteMeetings(db),
    attendance: sqliteAttendance(db),
    chat: sqliteChat(db),
    webhookDeliveries: sqliteWebhookDeliveries(db),
    transaction: (work) => db.transaction(work)(),
    close: () => db.close(),
  };
}
