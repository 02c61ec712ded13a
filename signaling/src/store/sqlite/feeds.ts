import type { Database } from 'better-sqlite3';
import { StoreConflictError, type FeedRecord, type FeedRepository } from '../types.js';
import { applyChanges } from './columns.js';
import { isUniqueViolation } from './constraints.js';

interface FeedRow {
  id: string;
  name: string;
  kind: FeedRecord['kind'];
  stream_key: string | null;
  url: string | null;
  transcode: number;
  created_by: string;
  created_at: number;
}

const fromRow = (row: FeedRow): FeedRecord => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  streamKey: row.stream_key,
  url: row.url,
  transcode: row.transcode === 1,
  createdBy: row.created_by,
  createdAt: row.created_at,
});

const toRow = (feed: FeedRecord): FeedRow => ({
  id: feed.id,
  name: feed.name,
  kind: feed.kind,
  stream_key: feed.streamKey,
  url: feed.url,
  transcode: feed.transcode ? 1 : 0,
  created_by: feed.createdBy,
  created_at: feed.createdAt,
});

export function sqliteFeeds(db: Database): FeedRepository {
  const list = db.prepare<[], FeedRow>('SELECT * FROM feeds ORDER BY created_at, id');
  const get = db.prepare<[string], FeedRow>('SELECT * FROM feeds WHERE id = ?');
  const byKey = db.prepare<[string], FeedRow>('SELECT * FROM feeds WHERE stream_key = ?');
  const insert = db.prepare<[FeedRow]>(
    `INSERT INTO feeds (id, name, kind, stream_key, url, transcode, created_by, created_at)
     VALUES (@id, @name, @kind, @stream_key, @url, @transcode, @created_by, @created_at)`,
  );
  const write = db.prepare<[FeedRow]>(
    'UPDATE feeds SET name = @name, kind = @kind, stream_key = @stream_key, url = @url, transcode = @transcode WHERE id = @id',
  );
  const remove = db.prepare<[string]>('DELETE FROM feeds WHERE id = ?');

  const getFeed = (id: string): FeedRecord | undefined => {
    const row = get.get(id);
    return row && fromRow(row);
  };

  return {
    list: () => list.all().map(fromRow),
    get: getFeed,
    getByStreamKey: (streamKey) => {
      const row = byKey.get(streamKey);
      return row && fromRow(row);
    },
    create: (feed) => {
      try {
        insert.run(toRow(feed));
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new StoreConflictError(`a feed with id "${feed.id}" or the same stream key exists`);
        }
        throw error;
      }
    },
    update: (id, changes) => {
      const current = getFeed(id);
      if (!current) return undefined;
      const updated = applyChanges<FeedRecord>(current, changes);
      write.run(toRow(updated));
      return updated;
    },
    delete: (id) => remove.run(id).changes > 0,
  };
}
