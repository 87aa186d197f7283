/** The bot's pushes, per event and chat, in the home's SQLite file. */
import type { EventType } from '../../core/domain.js';
import {
  DELIVERY_COLUMNS as COLUMNS,
  INSERT_DELIVERY_COLUMNS,
  TASK_EVENT,
  deliveryValues,
  toDelivery,
  type DeliveryRow,
} from './bot-rows.js';
import type { ChatDelivery, DeliveryRecords } from './bot-store.js';
import type { SqliteBotDb } from './sqlite-bot-db.js';
import { setState } from './sqlite-bot-state.js';

function insert(db: SqliteBotDb, delivery: ChatDelivery, now: number): void {
  db.run(
    `INSERT OR IGNORE INTO chat_deliveries (${INSERT_DELIVERY_COLUMNS})
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ...deliveryValues(delivery, now),
  );
}

export function sqliteDeliveries(db: SqliteBotDb): DeliveryRecords {
  return {
    isDelivered: (eventId, chatId) =>
      Promise.resolve(
        db.get(
          'SELECT 1 FROM chat_deliveries WHERE event_id = ? AND chat_id = ?',
          eventId,
          chatId,
        ) !== undefined,
      ),
    record(delivery, now = Date.now()) {
      insert(db, delivery, now);
      return Promise.resolve();
    },
    recordInDigest(delivery, digest) {
      // The digest's state and the delivery land together: a restart sees both or neither.
      db.immediate(() => {
        const now = Date.now();
        setState(db, digest.key, digest.value, now);
        insert(db, { ...delivery, kind: 'digest' }, now);
      });
      return Promise.resolve();
    },
    recentTasks: (chatId, since) =>
      Promise.resolve(
        db
          .all<{ task_id: number }>(
            `SELECT DISTINCT task_id FROM chat_deliveries
             WHERE chat_id = ? AND sent_at >= ? AND ${TASK_EVENT}`,
            chatId,
            since,
          )
          .map((r) => r.task_id),
      ),
    statusMessage(chatId, taskId) {
      const row = db.get<{ message_id: number; event_type: EventType }>(
        `SELECT message_id, event_type FROM chat_deliveries
         WHERE chat_id = ? AND task_id = ? AND kind <> 'digest' AND ${TASK_EVENT}
         ORDER BY event_id DESC LIMIT 1`,
        chatId,
        taskId,
      );
      return Promise.resolve(
        row === undefined ? null : { messageId: row.message_id, type: row.event_type },
      );
    },
    byMessage(chatId, messageId) {
      // An approval's message is edited by its resolution too: the first push is what was sent.
      const row = db.get<DeliveryRow>(
        `SELECT ${COLUMNS} FROM chat_deliveries
         WHERE chat_id = ? AND message_id = ? AND kind <> 'digest' ORDER BY event_id LIMIT 1`,
        chatId,
        messageId,
      );
      return Promise.resolve(row === undefined ? null : toDelivery(row));
    },
    ofEvent: (eventId) =>
      Promise.resolve(
        db
          .all<DeliveryRow>(`SELECT ${COLUMNS} FROM chat_deliveries WHERE event_id = ?`, eventId)
          .map(toDelivery),
      ),
    ofApprovalRequest: (approvalId) =>
      Promise.resolve(
        db
          .all<DeliveryRow>(
            `SELECT ${COLUMNS} FROM chat_deliveries
             WHERE approval_id = ? AND event_type = 'approval_requested' ORDER BY event_id, chat_id`,
            approvalId,
          )
          .map(toDelivery),
      ),
    approvalAt(chatId, messageId) {
      const row = db.get<{ approval_id: number | null }>(
        `SELECT approval_id FROM chat_deliveries
         WHERE chat_id = ? AND message_id = ? AND event_type = 'approval_requested'`,
        chatId,
        messageId,
      );
      return Promise.resolve(row?.approval_id ?? null);
    },
    started: (taskId) =>
      Promise.resolve(
        db
          .all<DeliveryRow>(
            `SELECT ${COLUMNS} FROM chat_deliveries
             WHERE task_id = ? AND event_type = 'task_started' AND kind <> 'digest'
             AND event_id = (SELECT MAX(event_id) FROM chat_deliveries
                             WHERE task_id = ? AND event_type = 'task_started')`,
            taskId,
            taskId,
          )
          .map(toDelivery),
      ),
  };
}
