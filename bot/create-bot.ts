/**
 * The kugetsu Telegram bot, built but not started (the caller binds it to polling). Handlers
 * never run agents: they validate, write through core operations, and answer at once. Each
 * feature is a Composer of its own; the order below is the order an update meets them.
 */
import { conversations } from '@grammyjs/conversations';
import { Bot } from 'grammy';
import type { HomeContext } from '../core/home-context.js';
import type { BotContext } from './bot-context.js';
import { storedConversations } from './conversation-storage.js';
import { approvalsFeature } from './features/approvals.js';
import { attachmentsFeature } from './features/attachments.js';
import { buttonsFeature } from './features/buttons.js';
import { delegateConversation, delegateFeature } from './features/delegate.js';
import type { FeatureDeps } from './features/feature-deps.js';
import { followUpFeature, replyFeature } from './features/follow-ups.js';
import { fallbackFeature, helpFeature } from './features/help.js';
import { logsFeature } from './features/logs.js';
import { mergeFeature } from './features/merge.js';
import { queueFeature } from './features/queue.js';
import { requestFeature } from './features/requests.js';
import { topicsFeature } from './features/topics.js';
import { voiceFeature } from './features/voice.js';
import { onlyAllowed } from './middleware/access.js';
import { answerErrors } from './middleware/error-boundary.js';
import { skipHandledUpdates } from './middleware/handled-updates.js';
import { installOutgoing } from './middleware/outgoing.js';
import type { BotStore } from './store/bot-store.js';
import { errorMessage } from '../core/errors.js';

export type { BotContext } from './bot-context.js';
export { COMMANDS } from './views/help-view.js';

export interface BotOptions {
  ctx: HomeContext;
  token: string;
  /** Starts a daemon if none runs (a standalone `kugetsu bot` needs one to run tasks). */
  ensureDaemon: () => Promise<unknown>;
  log: (line: string) => void;
}

export function createBot(options: BotOptions & { bot: BotStore }): Bot<BotContext> {
  const { ctx: home, log } = options;
  const deps: FeatureDeps = { ...options, home };
  const bot = new Bot<BotContext>(options.token, {
    client: { apiRoot: home.config.telegramApiRoot },
  });
  installOutgoing(bot.api, home);

  bot.use(skipHandledUpdates(deps.bot.state));
  bot.use(onlyAllowed(home.config.telegramAllowedUsers, deps.bot.state));
  bot.use(conversations({ storage: storedConversations(deps.bot.state) }));
  bot.use(delegateConversation(deps));

  const features = bot.errorBoundary(answerErrors(home, log));
  // Approvals first: their buttons and question replies are matched before anything else.
  features.use(approvalsFeature(home, deps.bot, log));
  features.use(helpFeature(), delegateFeature(deps), queueFeature(deps), logsFeature(deps));
  features.use(followUpFeature(deps), mergeFeature(deps));
  // The message handlers: whatever is written in a session's topic continues it, first.
  features.use(topicsFeature(deps), attachmentsFeature(deps), voiceFeature(deps));
  // Plain text nobody else claimed is a request; a reply to kugetsu continues its session.
  features.use(requestFeature(deps), replyFeature(deps));
  features.use(buttonsFeature(deps), fallbackFeature());

  bot.catch((err) => {
    log(
      `bot update ${err.ctx.update.update_id} failed: ${home.scrubber().scrub(errorMessage(err.error))}`,
    );
  });
  return bot;
}
