export * from './types.js';
export { openSqliteStore } from './sqlite/SqliteStore.js';
