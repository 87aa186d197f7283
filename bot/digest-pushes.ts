/**
 * The digest message of a chat: opened by the first event of a burst, then kept up to date.
 * Each event is added to its stored state with its delivery in one transaction (exactly once
 * across restarts); the message itself is edited at most every few seconds with what the state
 * holds by then, so a burst of fifty events is a handful of edits, not fifty paced ones.
 */
import { GrammyError, type Api } from 'grammy';
import type { KugetsuEvent } from '../core/domain.js';
import type { Store } from '../core/store/store.js';
import { addToDigest, digestHtml, digestPings, type DigestEntry } from './batching.js';
import type { ChatPacer } from './chat-pacer.js';

/** How long a digest's edit waits for more events to show with it. */
export const DIGEST_EDIT_MS = 3_000;
const DIGEST_KEY = 'digest:';

interface DigestState {
  messageId: number;
  startedAt: number;
  entries: DigestEntry[];
  /** How many entries the message shows; fewer than `entries`: an edit is due. */
  shown: number;
}

export class DigestPushes {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly api: Api,
    private readonly store: Store,
    private readonly pacer: ChatPacer,
    private readonly log: (line: string) => void,
    chats: readonly number[],
  ) {
    // A digest a crash left behind its state is brought up to date.
    for (const chatId of chats) {
      const state = this.read(chatId);
      if (state !== null && state.shown < state.entries.length) this.schedule(chatId);
    }
  }

  /** When the chat's open digest began, or null. */
  startedAt(chatId: number): number | null {
    return this.read(chatId)?.startedAt ?? null;
  }

  /** Adds the event; `fresh` opens a new digest message (the previous one's burst is over). */
  async add(chatId: number, event: KugetsuEvent, fresh: boolean, now: number): Promise<void> {
    const current = fresh ? null : this.read(chatId);
    const entry = { taskId: event.taskId, issueRef: event.issueRef, type: event.type };
    const entries = addToDigest(current?.entries ?? [], entry);
    let next: DigestState;
    if (current === null) {
      await this.pacer.wait(chatId);
      const sent = await this.api.sendMessage(chatId, digestHtml(entries), {
        parse_mode: 'HTML',
        disable_notification: !digestPings(entries),
      });
      next = { messageId: sent.message_id, startedAt: now, entries, shown: entries.length };
    } else {
      next = { ...current, entries };
      this.schedule(chatId);
    }
    // The digest's state and the delivery land together: a restart sees both or neither.
    this.store.immediate(() => {
      this.store.setBotState(`${DIGEST_KEY}${chatId}`, JSON.stringify(next));
      this.store.recordDelivery({
        eventId: event.id,
        chatId,
        messageId: next.messageId,
        taskId: event.taskId,
        issueRef: event.issueRef,
        kind: 'digest',
      });
    });
  }

  private schedule(chatId: number): void {
    if (this.timers.has(chatId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(chatId);
      void this.edit(chatId).catch((err: unknown) => {
        this.log(`digest edit failed: ${err instanceof Error ? err.message : String(err)}`);
        this.schedule(chatId);
      });
    }, DIGEST_EDIT_MS);
    timer.unref();
    this.timers.set(chatId, timer);
  }

  private async edit(chatId: number): Promise<void> {
    const state = this.read(chatId);
    if (state === null || state.shown >= state.entries.length) return;
    const shown = state.entries.length;
    await this.pacer.wait(chatId);
    try {
      await this.api.editMessageText(chatId, state.messageId, digestHtml(state.entries), {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      });
    } catch (err) {
      if (!(err instanceof GrammyError && err.description.includes('message is not modified')))
        throw err;
    }
    // Events may have arrived meanwhile: only what this edit showed counts as shown.
    const now = this.read(chatId);
    if (now === null || now.messageId !== state.messageId) return;
    this.store.setBotState(`${DIGEST_KEY}${chatId}`, JSON.stringify({ ...now, shown }));
    if (shown < now.entries.length) this.schedule(chatId);
  }

  private read(chatId: number): DigestState | null {
    const raw = this.store.getBotState(`${DIGEST_KEY}${chatId}`);
    if (raw === null) return null;
    try {
      const state = JSON.parse(raw) as DigestState;
      // A digest written before edits were coalesced shows everything it holds.
      return { ...state, shown: state.shown ?? state.entries.length };
    } catch {
      return null;
    }
  }
}
