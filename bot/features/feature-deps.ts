/** What every feature of the bot is built from. */
import type { HomeContext } from '../../core/home-context.js';
import type { BotStore } from '../store/bot-store.js';

export interface FeatureDeps {
  home: HomeContext;
  /** The bot's own records: pushes, prompts, pending requests, topics. */
  bot: BotStore;
  /** The bot token: only to download files, never shown. */
  token: string;
  /** Starts a daemon if none runs (a standalone `kugetsu bot` needs one to run tasks). */
  ensureDaemon: () => Promise<unknown>;
  log: (line: string) => void;
}
