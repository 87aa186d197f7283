/** The chat features' pure parts: what each message says, and the decisions behind them. */
import { describe, expect, it } from 'vitest';
import { eventMessage } from '../bot/views/event-message.js';
import { mergeKeyboard, mergeQuestion, mergedText } from '../bot/views/merge-view.js';
import { isCommand, isRealReply } from '../bot/message-kind.js';
import { pmKeyboard, pmQuestionHtml, queuedHtml } from '../bot/views/request-view.js';
import type { KugetsuEvent, Task } from '../core/domain.js';

const completed: KugetsuEvent = {
  id: 1,
  type: 'task_completed',
  taskId: 7,
  issueRef: 'git.example.com/me/app#14',
  message: '#7 completed',
  createdAt: 70_000,
  readAt: null,
  data: {},
};
const task = { id: 7, startedAt: 10_000, attempts: 1, maxAttempts: 3 } as Task;
const pr = { number: 15, url: 'https://git.example.com/me/app/pulls/15' };

describe('merge', () => {
  it('offers Merge beside Continue only while the pull request is open', () => {
    const open = eventMessage(completed, task, [], { ...pr, state: 'open' });
    expect(open.buttons.map((row) => row.map((b) => b.text))).toEqual([
      ['Pull request #15'],
      ['Continue', 'Merge', 'Logs'],
      ['Destroy', 'Prune'],
    ]);
    expect(open.buttons[1]?.[1]?.data).toBe('merge:7');
    for (const state of ['merged', 'closed'] as const) {
      const texts = eventMessage(completed, task, [], { ...pr, state }).buttons.flat();
      expect(texts.map((b) => b.text)).not.toContain('Merge');
    }
    // Not on failures, whatever the pull request.
    const failed = eventMessage({ ...completed, type: 'task_error' }, task, [], {
      ...pr,
      state: 'open',
    });
    expect(failed.buttons.flat().map((b) => b.text)).not.toContain('Merge');
  });

  it('asks before merging, and says what happened, escaped', () => {
    const ref = 'h/<o>/r#1';
    expect(mergeQuestion(ref, { ...pr, state: 'open' })).toBe(
      'Merge pull request <a href="https://git.example.com/me/app/pulls/15">#15</a> of <code>h/&lt;o&gt;/r#1</code>?',
    );
    expect(mergeKeyboard(7)).toEqual([
      [
        { text: 'Yes, merge', data: 'merge!:7' },
        { text: 'Cancel', data: 'cancel:7' },
      ],
    ]);
    const merged = { ...pr, state: 'merged' as const };
    expect(mergedText({ issueRef: ref, pullRequest: merged, already: false })).toMatch(
      /^🔀 Merged pull request .*#15.* of <code>h\/&lt;o&gt;\/r#1<\/code>\.$/,
    );
    expect(mergedText({ issueRef: ref, pullRequest: merged, already: true })).toContain(
      'was already merged',
    );
    expect(
      mergedText({ issueRef: ref, pullRequest: { ...pr, state: 'open' }, already: false }),
    ).toContain('requested; the forge shows it open');
  });
});

describe('plain-text requests', () => {
  it('tells commands and chosen replies from plain text', () => {
    const command = {
      text: '/queue',
      entities: [{ type: 'bot_command' as const, offset: 0, length: 6 }],
    };
    expect(isCommand(command)).toBe(true);
    expect(
      isCommand({
        text: 'see /queue',
        entities: [{ type: 'bot_command' as const, offset: 4, length: 6 }],
      }),
    ).toBe(false);
    expect(
      isCommand({
        caption: '/delegate x',
        caption_entities: [{ type: 'bot_command' as const, offset: 0, length: 9 }],
      }),
    ).toBe(true);
    expect(isCommand({ text: 'plain' })).toBe(false);
    const replied = {
      message_id: 5,
      date: 0,
      chat: { id: 1, type: 'private' as const, first_name: 'x' },
    };
    expect(isRealReply({})).toBe(false);
    expect(isRealReply({ reply_to_message: replied })).toBe(true);
    // In a forum topic every message "replies" to the topic's first message; that is no reply.
    expect(
      isRealReply({ reply_to_message: replied, is_topic_message: true, message_thread_id: 5 }),
    ).toBe(false);
    expect(
      isRealReply({ reply_to_message: replied, is_topic_message: true, message_thread_id: 4 }),
    ).toBe(true);
  });

  it('asks with Yes / Cancel, quoting the text escaped and cut', () => {
    expect(pmQuestionHtml('a <b> & c')).toMatch(
      /^Send to the PM agent\?\n<blockquote>a &lt;b&gt; &amp; c<\/blockquote>/,
    );
    expect(pmQuestionHtml('x'.repeat(5000)).length).toBeLessThan(1000);
    expect(pmKeyboard('00ff00ff00ff00ff')).toEqual([
      [
        { text: 'Yes', data: 'pm-send:00ff00ff00ff00ff' },
        { text: 'Cancel', data: 'pm-drop:00ff00ff00ff00ff' },
      ],
    ]);
    expect(queuedHtml({ id: 3, issueRef: null })).toBe('📥 Task #3 queued for the PM agent');
    expect(queuedHtml({ id: 4, issueRef: 'h/o/r#1' }, 'resuming <x>')).toBe(
      '📥 Task #4 queued for <code>h/o/r#1</code>\n<i>resuming &lt;x&gt;</i>',
    );
  });
});

describe('forum topics', () => {
  it('names a topic after the issue, within 128 characters', async () => {
    const { topicName } = await import('../bot/topic-router.js');
    expect(topicName('git.example.com/me/app#14', 'Login fails')).toBe(
      'git.example.com/me/app#14 · Login fails',
    );
    expect(topicName('git.example.com/me/app#14', null)).toBe('git.example.com/me/app#14');
    expect(topicName('h/o/r#1', '  spaced\n\ttitle ')).toBe('h/o/r#1 · spaced title');
    const long = topicName('git.example.com/me/app#14', '🐛'.repeat(300));
    expect([...long]).toHaveLength(128);
    expect(long.endsWith('…')).toBe(true);
    // A very long ref gives up its host first.
    const deep = `${'h'.repeat(90)}.example/me/app#3`;
    expect(topicName(deep, 'x')).toBe('me/app#3 · x');
  });
});
