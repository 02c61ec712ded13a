import type { Database } from 'better-sqlite3';
import type { ChatMessage } from '../../protocol.js';
import type { ChatRepository } from '../types.js';
import { fromJson, toJson } from './columns.js';
import { missingMeeting } from './constraints.js';

/** Messages in the order they were appended. */
export function sqliteChat(db: Database): ChatRepository {
  const append = db.prepare<[string, number, string]>('INSERT INTO chat_messages (meeting_id, sent_at, message) VALUES (?, ?, ?)');
  const recent = db.prepare<[string, number], { message: string }>(
    'SELECT message FROM (SELECT seq, message FROM chat_messages WHERE meeting_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
  );
  const all = db.prepare<[string], { message: string }>('SELECT message FROM chat_messages WHERE meeting_id = ? ORDER BY seq');
  const fromRow = (row: { message: string }): ChatMessage => fromJson<ChatMessage>(row.message);

  return {
    append: (meetingId, message) => {
      try {
        append.run(meetingId, message.sentAt, toJson(message));
      } catch (error) {
        throw missingMeeting(error, meetingId, 'a chat message');
      }
    },
    recent: (meetingId, limit) => recent.all(meetingId, Math.max(0, Math.floor(limit))).map(fromRow),
    all: (meetingId) => all.all(meetingId).map(fromRow),
  };
}
