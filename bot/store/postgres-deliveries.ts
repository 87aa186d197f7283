/** The bot's pushes, per event and chat, in the fleet's PostgreSQL database. */
import type { EventType } from '../../core/domain.js';
import type { PgDb, PgSql } from '../../core/store/postgres/pg-db.js';
import {
  DELIVERY_COLUMNS as COLUMNS,
  INSERT_DELIVERY_COLUMNS,
  TASK_EVENT,
  deliveryValues,
  toDelivery,
  type DeliveryRow,
} from './bot-rows.js';
import type { ChatDelivery, DeliveryRecords } from './bot-store.js';
import { setState } from './postgres-bot-state.js';

async function insert(sql: PgSql, delivery: ChatDelivery, now: number): Promise<void> {
  // Two workers recording one push (a redelivery after a hand-off): the second changes nothing.
  await sql.run(
    `INSERT INTO chat_deliveries (${INSERT_DELIVERY_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    ...deliveryValues(delivery, now),
  );
}

export function postgresDeliveries(db: PgDb): DeliveryRecords {
  const { sql } = db;
  const many = async (query: string, ...params: unknown[]): Promise<ChatDelivery[]> =>
    (await sql.all<DeliveryRow>(query, ...params)).map(toDelivery);
  return {
    isDelivered: async (eventId, chatId) =>
      (await sql.get(
        'SELECT 1 FROM chat_deliveries WHERE event_id = $1 AND chat_id = $2',
        eventId,
        chatId,
      )) !== undefined,
    record: (delivery, now = Date.now()) => insert(sql, delivery, now),
    recordInDigest: (delivery, digest) =>
      // The digest's state and the delivery land together: a new leader sees both or neither.
      db.transaction(async (tx) => {
        const now = Date.now();
        await setState(tx, digest.key, digest.value, now);
        await insert(tx, { ...delivery, kind: 'digest' }, now);
      }),
    recentTasks: async (chatId, since) =>
      (
        await sql.all<{ task_id: number }>(
          `SELECT DISTINCT task_id FROM chat_deliveries
           WHERE chat_id = $1 AND sent_at >= $2 AND ${TASK_EVENT}`,
          chatId,
          since,
        )
      ).map((r) => r.task_id),
    async statusMessage(chatId, taskId) {
      const row = await sql.get<{ message_id: number; event_type: EventType }>(
        `SELECT message_id, event_type FROM chat_deliveries
         WHERE chat_id = $1 AND task_id = $2 AND kind <> 'digest' AND ${TASK_EVENT}
         ORDER BY event_id DESC LIMIT 1`,
        chatId,
        taskId,
      );
      return row === undefined ? null : { messageId: row.message_id, type: row.event_type };
    },
    async byMessage(chatId, messageId) {
      // An approval's message is edited by its resolution too: the first push is what was sent.
      const row = await sql.get<DeliveryRow>(
        `SELECT ${COLUMNS} FROM chat_deliveries
         WHERE chat_id = $1 AND message_id = $2 AND kind <> 'digest' ORDER BY event_id LIMIT 1`,
        chatId,
        messageId,
      );
      return row === undefined ? null : toDelivery(row);
    },
    ofEvent: (eventId) =>
      many(`SELECT ${COLUMNS} FROM chat_deliveries WHERE event_id = $1`, eventId),
    ofApprovalRequest: (approvalId) =>
      many(
        `SELECT ${COLUMNS} FROM chat_deliveries
         WHERE approval_id = $1 AND event_type = 'approval_requested' ORDER BY event_id, chat_id`,
        approvalId,
      ),
    async approvalAt(chatId, messageId) {
      const row = await sql.get<{ approval_id: number | null }>(
        `SELECT approval_id FROM chat_deliveries
         WHERE chat_id = $1 AND message_id = $2 AND event_type = 'approval_requested'`,
        chatId,
        messageId,
      );
      return row?.approval_id ?? null;
    },
    started: (taskId) =>
      many(
        `SELECT ${COLUMNS} FROM chat_deliveries
         WHERE task_id = $1 AND event_type = 'task_started' AND kind <> 'digest'
         AND event_id = (SELECT MAX(event_id) FROM chat_deliveries
                         WHERE task_id = $1 AND event_type = 'task_started')`,
        taskId,
      ),
  };
}
