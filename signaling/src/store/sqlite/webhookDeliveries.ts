import type { Database } from 'better-sqlite3';
import type { WebhookDelivery, WebhookDeliveryRepository } from '../types.js';
import { applyChanges } from './columns.js';

interface DeliveryRow {
  id: number;
  event_id: string;
  event: string;
  url: string;
  attempts: number;
  status: WebhookDelivery['status'];
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const fromRow = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  eventId: row.event_id,
  event: row.event,
  url: row.url,
  attempts: row.attempts,
  status: row.status,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toRow = (delivery: WebhookDelivery): DeliveryRow => ({
  id: delivery.id,
  event_id: delivery.eventId,
  event: delivery.event,
  url: delivery.url,
  attempts: delivery.attempts,
  status: delivery.status,
  last_status_code: delivery.lastStatusCode,
  last_error: delivery.lastError,
  created_at: delivery.createdAt,
  updated_at: delivery.updatedAt,
});

/** "Newest first" is the reverse of creation order. */
export function sqliteWebhookDeliveries(db: Database): WebhookDeliveryRepository {
  const insert = db.prepare<[Omit<DeliveryRow, 'id'>]>(
    `INSERT INTO webhook_deliveries (event_id, event, url, attempts, status, last_status_code, last_error, created_at, updated_at)
     VALUES (@event_id, @event, @url, @attempts, @status, @last_status_code, @last_error, @created_at, @updated_at)`,
  );
  const get = db.prepare<[number], DeliveryRow>('SELECT * FROM webhook_deliveries WHERE id = ?');
  const write = db.prepare<[DeliveryRow]>(
    `UPDATE webhook_deliveries SET attempts = @attempts, status = @status, last_status_code = @last_status_code,
       last_error = @last_error, updated_at = @updated_at
     WHERE id = @id`,
  );
  const list = db.prepare<[number], DeliveryRow>('SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT ?');

  return {
    create: (delivery) => {
      const { id: _, ...row } = toRow({ ...delivery, id: 0 });
      const id = Number(insert.run(row).lastInsertRowid);
      return { ...delivery, id };
    },
    update: db.transaction((id: number, changes: Parameters<WebhookDeliveryRepository['update']>[1]) => {
      const row = get.get(id);
      if (row) write.run(toRow(applyChanges<WebhookDelivery>(fromRow(row), changes)));
    }),
    list: (limit) => list.all(Math.max(0, Math.floor(limit))).map(fromRow),
  };
}
