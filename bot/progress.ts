/**
 * Live progress: the `task_started` message of each running task is edited in place, at most
 * every few seconds, with the elapsed time and the last meaningful transcript line. Edits do
 * not ping the phone; the outcome arrives as a new message.
 */
import { GrammyError, type Api } from 'grammy';
import type { Task } from '../core/domain.js';
import type { HomeContext } from '../core/home-context.js';
import type { DeliveryRecords } from './store/bot-store.js';
import { tailLines } from '../core/transcripts.js';
import { lastMeaningfulLine, progressHtml } from './views/progress-view.js';
import { keyboard } from './keyboard.js';
import { taskButtons } from './views/event-message.js';

const SCAN_LINES = 30;

export class ProgressUpdater {
  private timer: NodeJS.Timeout | null = null;
  // What each status message shows now, so unchanged text is not sent again.
  private readonly shown = new Map<string, string>();

  constructor(
    private readonly api: Api,
    private readonly home: Pick<HomeContext, 'store' | 'scrubber'>,
    private readonly deliveries: DeliveryRecords,
    private readonly log: (line: string) => void,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(now = Date.now()): Promise<void> {
    const scrubber = this.home.scrubber();
    const live = new Set<string>();
    for (const task of await this.home.store.tasks.list({ states: ['running'] })) {
      const run = (await this.home.store.runs.list(task.id)).at(-1);
      const line =
        run === undefined
          ? null
          : lastMeaningfulLine(tailLines(run.transcript, SCAN_LINES, scrubber));
      const [waiting] = await this.home.store.approvals.list({ taskId: task.id });
      const html = progressHtml(
        task,
        now,
        waiting === undefined ? line : `⏸ waiting for your answer (approval #${waiting.id})`,
      );
      for (const delivery of await this.deliveries.started(task.id)) {
        const key = `${delivery.chatId}:${delivery.messageId}`;
        live.add(key);
        if (this.shown.get(key) === html) continue;
        await this.edit(delivery.chatId, delivery.messageId, html, task);
        this.shown.set(key, html);
      }
    }
    for (const key of this.shown.keys()) if (!live.has(key)) this.shown.delete(key);
  }

  private async edit(chatId: number, messageId: number, html: string, task: Task): Promise<void> {
    try {
      // An edit without reply_markup would remove the buttons: send them again.
      await this.api.editMessageText(chatId, messageId, html, {
        parse_mode: 'HTML',
        reply_markup: keyboard(taskButtons(task.id, 'running', task.issueRef !== null)),
      });
    } catch (err) {
      // Telegram answers 400 when nothing changed: that is success.
      if (err instanceof GrammyError && err.description.includes('message is not modified')) return;
      this.log(`progress edit failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
