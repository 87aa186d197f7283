/** The BotStore on the fleet's PostgreSQL database, through a pool of its own. */
import type { BotStore } from './bot-store.js';
import { openPostgresBotDb } from './postgres-bot-db.js';
import { postgresBotState, postgresTopics } from './postgres-bot-state.js';
import { postgresDeliveries } from './postgres-deliveries.js';

export async function openPostgresBotStore(url: string): Promise<BotStore> {
  const db = await openPostgresBotDb(url);
  return {
    deliveries: postgresDeliveries(db),
    state: postgresBotState(db),
    topics: postgresTopics(db),
    close: () => db.close(),
  };
}
