/**
 * The digest message of a chat: opened by the first event of a burst, then kept up to date.
 * Each event is added to its stored state with its delivery in one transaction (exactly once
 * across restarts); the message itself is edited at most every few seconds with what the state
 * holds by then, so a burst of fifty events is a handful of edits, not fifty paced ones.
 */
import { GrammyError, type Api } from 'grammy';
import type { KugetsuEvent } from '../core/domain.js';
import type { BotStore } from './store/bot-store.js';
import { addToDigest, digestHtml, digestPings, type DigestEntry } from './batching.js';
import type { ChatPacer } from './chat-pacer.js';

/** How long a digest's edit waits for more events to show with it. */
export const DIGEST_EDIT_MS = 3_000;
const DIGEST_KEY = 'digest:';

interface DigestState {
  messageId: number;
  startedAt: number;
  /** When it last took an event: the burst is over a minute after that. */
  lastAt: number;
  entries: DigestEntry[];
  /**
   * Events folded in so far, and how many of them the message shows; fewer: an edit is due.
   * Counted in events, not entries: a task that moves on changes its entry, not their number.
   */
  added: number;
  shown: number;
}

export class DigestPushes {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly api: Api,
    private readonly store: BotStore,
    private readonly pacer: ChatPacer,
    private readonly log: (line: string) => void,
    private readonly editDelayMs = DIGEST_EDIT_MS,
  ) {}

  /** Brings up to date the digests a crash left behind their state. */
  async resume(chats: readonly number[]): Promise<void> {
    for (const chatId of chats) {
      const state = await this.read(chatId);
      if (state !== null && state.shown < state.added) this.schedule(chatId);
    }
  }

  /** When the chat's digest began and last took an event, or null. */
  async span(chatId: number): Promise<{ startedAt: number; lastAt: number } | null> {
    const state = await this.read(chatId);
    return state === null ? null : { startedAt: state.startedAt, lastAt: state.lastAt };
  }

  /** Adds the event; `fresh` opens a new digest message (the previous one's burst is over). */
  async add(chatId: number, event: KugetsuEvent, fresh: boolean, now: number): Promise<void> {
    const current = fresh ? null : await this.read(chatId);
    const entry = { taskId: event.taskId, issueRef: event.issueRef, type: event.type };
    const entries = addToDigest(current?.entries ?? [], entry);
    let next: DigestState;
    if (current === null) {
      await this.pacer.wait(chatId);
      const sent = await this.api.sendMessage(chatId, digestHtml(entries), {
        parse_mode: 'HTML',
        disable_notification: !digestPings(entries),
      });
      next = {
        messageId: sent.message_id,
        startedAt: now,
        lastAt: now,
        entries,
        added: 1,
        shown: 1,
      };
    } else {
      next = { ...current, lastAt: now, entries, added: current.added + 1 };
      this.schedule(chatId);
    }
    // The digest's state and the delivery land together: a restart sees both or neither.
    await this.store.deliveries.recordInDigest(
      {
        eventId: event.id,
        eventType: event.type,
        chatId,
        messageId: next.messageId,
        taskId: event.taskId,
        issueRef: event.issueRef,
      },
      { key: `${DIGEST_KEY}${chatId}`, value: JSON.stringify(next) },
    );
  }

  private schedule(chatId: number): void {
    if (this.timers.has(chatId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(chatId);
      void this.edit(chatId).catch((err: unknown) => {
        this.log(`digest edit failed: ${err instanceof Error ? err.message : String(err)}`);
        this.schedule(chatId);
      });
    }, this.editDelayMs);
    timer.unref();
    this.timers.set(chatId, timer);
  }

  private async edit(chatId: number): Promise<void> {
    const state = await this.read(chatId);
    if (state === null || state.shown >= state.added) return;
    const shown = state.added;
    await this.pacer.wait(chatId);
    try {
      const html = digestHtml(state.entries, state.lastAt - state.startedAt);
      await this.api.editMessageText(chatId, state.messageId, html, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      });
    } catch (err) {
      if (!(err instanceof GrammyError && err.description.includes('message is not modified')))
        throw err;
    }
    // Events may have arrived meanwhile: only what this edit showed counts as shown.
    const now = await this.read(chatId);
    if (now === null || now.messageId !== state.messageId) return;
    await this.store.state.set(`${DIGEST_KEY}${chatId}`, JSON.stringify({ ...now, shown }));
    if (shown < now.added) this.schedule(chatId);
  }

  private async read(chatId: number): Promise<DigestState | null> {
    const raw = await this.store.state.get(`${DIGEST_KEY}${chatId}`);
    if (raw === null) return null;
    try {
      const state = JSON.parse(raw) as Partial<DigestState> &
        Pick<DigestState, 'messageId' | 'startedAt' | 'entries'>;
      // Digests stored by earlier versions: one without an event count counts its entries (and
      // gets one more edit if it showed fewer), one without a last event is as old as its start.
      const added = state.added ?? state.entries.length;
      return {
        ...state,
        added,
        shown: Math.min(state.shown ?? added, added),
        lastAt: state.lastAt ?? state.startedAt,
      };
    } catch {
      return null;
    }
  }
}
