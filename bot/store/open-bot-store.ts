/**
 * Where the bot keeps its records: beside the core's, on the home's SQLite file, or on the
 * PostgreSQL database KUGETSU_DATABASE_URL names, where every worker's bot shares them — so the
 * worker that takes the bot lease knows what the last leader pushed, paired and was asked.
 */
import type { HomeContext } from '../../core/home-context.js';
import type { BotStore } from './bot-store.js';
import { openPostgresBotStore } from './postgres-bot-store.js';
import { openSqliteBotStore } from './sqlite-bot-store.js';

export async function openBotStore(home: Pick<HomeContext, 'paths' | 'config'>): Promise<BotStore> {
  const url = home.config.databaseUrl;
  return url === undefined ? openSqliteBotStore(home.paths.db) : await openPostgresBotStore(url);
}
