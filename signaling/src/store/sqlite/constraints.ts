// Telling SQLite's constraint failures apart, so that callers get StoreConflictError for a taken
// key and a message that says what to do for the rest.
import Database from 'better-sqlite3';

type SqliteError = InstanceType<typeof Database.SqliteError>;

/** A PRIMARY KEY or UNIQUE constraint failed. */
export function isUniqueViolation(error: unknown): error is SqliteError {
  return error instanceof Database.SqliteError && (error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || error.code === 'SQLITE_CONSTRAINT_UNIQUE');
}

export function isForeignKeyViolation(error: unknown): error is SqliteError {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Attendance and chat rows belong to a meeting record (and go when it is deleted). */
export function missingMeeting(error: unknown, meetingId: string, what: string): unknown {
  if (!isForeignKeyViolation(error)) return error;
  return new Error(`cannot record ${what} for meeting "${meetingId}": no such meeting record; create the meeting first`);
}
