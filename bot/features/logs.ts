/** A task's transcript: `/logs REF|TASK [full]` and the Logs button of its pushes. */
import { Composer, InputFile } from 'grammy';
import { resolveTaskId, transcriptLines } from '../../core/operations/tasks.js';
import type { BotContext } from '../bot-context.js';
import { buttonPattern } from '../callback-data.js';
import { LOG_LINES, logBlocks, noTranscriptText, transcriptFile } from '../views/logs-view.js';
import type { FeatureDeps } from './feature-deps.js';
import { pressedTaskId } from './tasks-of.js';

export function logsFeature(deps: FeatureDeps): Composer<BotContext> {
  const { home } = deps;
  const composer = new Composer<BotContext>();

  async function sendLogs(ctx: BotContext, taskId: number, full: boolean): Promise<void> {
    const lines = await transcriptLines(home, taskId, full ? undefined : LOG_LINES);
    if (lines.length === 0) {
      await ctx.reply(noTranscriptText(taskId));
      return;
    }
    if (full) {
      const file = transcriptFile(taskId, lines);
      await ctx.replyWithDocument(new InputFile(file.data, file.name), { caption: file.caption });
      return;
    }
    for (const block of logBlocks(lines)) await ctx.reply(block, { parse_mode: 'HTML' });
  }

  composer.command('logs', async (ctx) => {
    const [which = '', mode] = ctx.match.trim().split(/\s+/);
    await sendLogs(ctx, await resolveTaskId(home, which), mode === 'full');
  });

  composer.callbackQuery(buttonPattern('logs'), async (ctx) => {
    await ctx.answerCallbackQuery();
    await sendLogs(ctx, pressedTaskId(ctx), false);
  });
  return composer;
}
