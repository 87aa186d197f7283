/**
 * Which forum topic a push goes to (features/topics.ts handles what is written in one).
 * A forum topic per session, in notification chats that are forum supergroups (`is_forum`).
 * A session's first push there makes its topic (`createForumTopic`, named after the issue);
 * its pushes go into it (`message_thread_id`); what the user writes in it — text, files, voice —
 * continues that session. Once the session is gone (destroyed, pruned) its topic is closed, and
 * reopened if the session comes back. Private chats and plain groups are left as they were.
 */
import { GrammyError, type Api } from 'grammy';
import type { HomeContext } from '../core/home-context.js';
import { issueTitle } from '../core/operations/issue-title.js';
import type { TopicRecords } from './store/bot-store.js';

/** Telegram's limit for a topic's name. */
export const TOPIC_NAME_LIMIT = 128;
/** How long a chat's "is it a forum" answer is trusted (admins can turn topics on and off). */
const FORUM_CHECK_TTL_MS = 10 * 60_000;

/**
 * The topic's name: the ref and the issue's title when known, within 128 characters. A ref
 * too long to leave room drops its host first. Pure.
 */
export function topicName(issueRef: string, title: string | null): string {
  const chars = (text: string): string[] => [...text];
  const hostless = issueRef.replace(/^[^/]+\//, '');
  const ref = chars(issueRef).length <= 80 ? issueRef : hostless;
  const cleanTitle = (title ?? '').replace(/\s+/g, ' ').trim();
  const full = cleanTitle === '' ? ref : `${ref} · ${cleanTitle}`;
  if (chars(full).length <= TOPIC_NAME_LIMIT) return full;
  return `${chars(full)
    .slice(0, TOPIC_NAME_LIMIT - 1)
    .join('')
    .trimEnd()}…`;
}

export interface TopicRouterOptions {
  api: Api;
  topics: TopicRecords;
  /** Every session's ref: the topics of the others are closed. */
  liveRefs: () => Promise<string[]>;
  /** The issue's title, when its forge can say; null otherwise. */
  title: (issueRef: string) => Promise<string | null>;
  log: (line: string) => void;
  now?: () => number;
}

/** Telegram's words for "this thread cannot take messages any more". */
export function isGoneTopic(err: unknown): boolean {
  return (
    err instanceof GrammyError &&
    /TOPIC_CLOSED|TOPIC_DELETED|message thread not found/.test(err.description)
  );
}

export class TopicRouter {
  private readonly forums = new Map<number, { forum: boolean; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly o: TopicRouterOptions) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Whether `chatId` is a forum; private chats never are (and are not asked about). */
  async isForum(chatId: number): Promise<boolean> {
    if (chatId > 0) return false;
    const known = this.forums.get(chatId);
    if (known !== undefined && this.now() - known.at < FORUM_CHECK_TTL_MS) return known.forum;
    let forum = false;
    try {
      forum = (await this.o.api.getChat(chatId)).is_forum === true;
    } catch (err) {
      if (!(err instanceof GrammyError)) throw err;
      this.o.log(`telegram: cannot tell whether chat ${chatId} has topics: ${err.description}`);
    }
    this.forums.set(chatId, { forum, at: this.now() });
    return forum;
  }

  /**
   * The topic thread a push about `issueRef` goes to in `chatId`, made (or reopened) on the way;
   * null: the chat's main thread. A topic Telegram will not make (no rights, not a forum after
   * all) is reported once and the push goes to the main thread; a network failure throws, so
   * the push is retried later in order.
   */
  async threadFor(chatId: number, issueRef: string | null): Promise<number | null> {
    if (issueRef === null || !(await this.isForum(chatId))) return null;
    const known = await this.o.topics.get(chatId, issueRef);
    if (known !== null && known.closedAt === null) return known.threadId;
    if (known !== null) {
      try {
        await this.o.api.reopenForumTopic(chatId, known.threadId);
        await this.o.topics.setClosed(chatId, issueRef, null);
        return known.threadId;
      } catch (err) {
        if (err instanceof GrammyError && err.description.includes('TOPIC_NOT_MODIFIED')) {
          await this.o.topics.setClosed(chatId, issueRef, null);
          return known.threadId;
        }
        if (!isGoneTopic(err) && !(err instanceof GrammyError)) throw err;
        // Deleted meanwhile: a new one below.
      }
    }
    const name = topicName(issueRef, await this.o.title(issueRef));
    try {
      const topic = await this.o.api.createForumTopic(chatId, name);
      await this.o.topics.save({ chatId, issueRef, threadId: topic.message_thread_id, name });
      return topic.message_thread_id;
    } catch (err) {
      if (!(err instanceof GrammyError) || err.error_code >= 500 || err.error_code === 429)
        throw err;
      this.o.log(
        `telegram: no topic for ${issueRef} in chat ${chatId} (${err.description}); pushing to the main thread`,
      );
      this.forums.set(chatId, { forum: false, at: this.now() });
      return null;
    }
  }

  /** A topic someone closed or deleted by hand: forget it, so the next push reopens or remakes it. */
  forget(chatId: number, issueRef: string): Promise<void> {
    return this.o.topics.setClosed(chatId, issueRef, this.now());
  }

  /** Closes the topics of sessions that are gone. Never throws; concurrent calls coalesce. */
  closeOrphans(): Promise<void> {
    this.closing ??= (async () => {
      const live = new Set(await this.o.liveRefs());
      const orphaned = (await this.o.topics.open()).filter((t) => !live.has(t.issueRef));
      for (const topic of orphaned) {
        try {
          await this.o.api.closeForumTopic(topic.chatId, topic.threadId);
        } catch (err) {
          // Closed or deleted by hand already: either way it is closed now.
          if (!(err instanceof GrammyError)) {
            this.o.log(`telegram: closing the topic of ${topic.issueRef} failed; will retry`);
            continue;
          }
        }
        await this.o.topics.setClosed(topic.chatId, topic.issueRef, this.now());
      }
    })()
      .catch((err: unknown) => {
        this.o.log(
          `telegram: closing topics failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      })
      .finally(() => {
        this.closing = null;
      });
    return this.closing;
  }

  start(intervalMs: number): void {
    this.timer ??= setInterval(() => void this.closeOrphans(), intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The router the daemon's bot uses: titles come from the session's forge. */
export function topicRouterFor(
  api: Api,
  home: HomeContext,
  topics: TopicRecords,
  log: (line: string) => void,
): TopicRouter {
  return new TopicRouter({
    api,
    topics,
    liveRefs: async () => (await home.store.sessions.list({ all: true })).map((s) => s.issueRef),
    log,
    title: (ref) => issueTitle(home, ref),
  });
}
