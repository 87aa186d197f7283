/**
 * `/delegate`: with text, it queues at once; without, a conversation asks what to do (and,
 * without a default repository, which of the known ones), surviving a restart midway.
 */
import { createConversation } from '@grammyjs/conversations';
import { Composer } from 'grammy';
import { parseAgentName } from '../../core/agents/registry.js';
import { knownRepos } from '../../core/operations/session-list.js';
import { delegate } from '../../core/operations/tasks.js';
import type { BotContext } from '../bot-context.js';
import { keyboard } from '../keyboard.js';
import { parseTaskFlags } from '../task-flags.js';
import {
  ASK_REPO,
  ASK_WHAT,
  NEEDS_ISSUE_NUMBER,
  REPO_PICK,
  TAP_A_REPO,
  askIssueHtml,
  issueRequest,
  repoButtons,
} from '../views/delegate-view.js';
import { queuedHtml } from '../views/request-view.js';
import type { FeatureDeps } from './feature-deps.js';

const MAX_REPO_BUTTONS = 8;

/** Queues `text` as `/delegate TEXT` would, and says what was queued. */
async function queueDelegation(deps: FeatureDeps, text: string): Promise<string> {
  const flags = parseTaskFlags(text);
  const result = await delegate(deps.home, flags.message, {
    agent: parseAgentName(flags.agent),
    model: flags.model,
  });
  await deps.ensureDaemon();
  return queuedHtml(result.task, result.note);
}

/** The conversation `/delegate` enters without text; installed before the error boundary. */
export function delegateConversation(deps: FeatureDeps): Composer<BotContext> {
  const { home } = deps;
  const composer = new Composer<BotContext>();
  composer.use(
    createConversation<BotContext, BotContext>(async (conversation, ctx) => {
      const repos = await conversation.external(() =>
        home.config.defaultRepo === undefined
          ? knownRepos(home).then((repos) => repos.slice(0, MAX_REPO_BUTTONS))
          : [],
      );
      if (repos.length === 0) {
        await ctx.reply(ASK_WHAT);
        const answer = await conversation.waitFor('message:text');
        const text = answer.message.text;
        await answer.reply(await conversation.external(() => queueDelegation(deps, text)), {
          parse_mode: 'HTML',
        });
        return;
      }
      await ctx.reply(ASK_REPO, { reply_markup: keyboard(repoButtons(repos)) });
      const pick = await conversation.waitForCallbackQuery(REPO_PICK, {
        otherwise: (other) => other.reply(TAP_A_REPO),
      });
      const repo = repos[Number(pick.callbackQuery.data.slice('repo:'.length))] ?? repos[0] ?? '';
      await pick.answerCallbackQuery();
      await pick.editMessageReplyMarkup({ reply_markup: undefined });
      await pick.reply(askIssueHtml(repo), { parse_mode: 'HTML' });
      const answer = await conversation.waitFor('message:text');
      const text = issueRequest(repo, answer.message.text);
      if (text === null) {
        await answer.reply(NEEDS_ISSUE_NUMBER);
        return;
      }
      await answer.reply(await conversation.external(() => queueDelegation(deps, text)), {
        parse_mode: 'HTML',
      });
    }, 'delegate'),
  );
  return composer;
}

export function delegateFeature(deps: FeatureDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command('delegate', async (ctx) => {
    const text = ctx.match.trim();
    if (text === '') {
      await ctx.conversation.enter('delegate');
      return;
    }
    await ctx.reply(await queueDelegation(deps, text), { parse_mode: 'HTML' });
  });
  return composer;
}
