/** The BotStore on the home's SQLite file, through a connection of its own. */
import type { BotStore } from './bot-store.js';
import { SqliteBotDb } from './sqlite-bot-db.js';
import { sqliteBotState, sqliteTopics } from './sqlite-bot-state.js';
import { sqliteDeliveries } from './sqlite-deliveries.js';

export function openSqliteBotStore(file: string): BotStore {
  const db = SqliteBotDb.open(file);
  return {
    deliveries: sqliteDeliveries(db),
    state: sqliteBotState(db),
    topics: sqliteTopics(db),
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}
