import { describe, expect, it } from 'vitest';
import { decodeButton, encodeButton } from '../bot/callback-data.js';
import { eventMessage } from '../bot/views/event-message.js';
import { TELEGRAM_TEXT_LIMIT, escapeHtml, preBlocks, splitText } from '../bot/views/format.js';
import type { KugetsuEvent, Task } from '../core/domain.js';

const event = (type: KugetsuEvent['type'], message = '#7 something'): KugetsuEvent => ({
  id: 1,
  type,
  taskId: 7,
  issueRef: 'git.example.com/me/app#14',
  message,
  data: {},
  createdAt: 70_000,
  readAt: null,
});
const task = { id: 7, startedAt: 10_000, attempts: 1, maxAttempts: 3 } as Task;

describe('telegram formatting', () => {
  it('escapes what HTML parse mode would read as markup', () => {
    expect(escapeHtml('<b>&"x"</b>')).toBe('&lt;b&gt;&amp;"x"&lt;/b&gt;');
  });

  it('splits on paragraphs, then lines, then spaces, never past the limit', () => {
    const para = `${'a'.repeat(3000)}\n\n${'b'.repeat(3000)}`;
    expect(splitText(para)).toEqual(['a'.repeat(3000), 'b'.repeat(3000)]);
    const words = Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' ');
    const chunks = splitText(words);
    expect(chunks.every((c) => c.length <= TELEGRAM_TEXT_LIMIT)).toBe(true);
    expect(chunks.join(' ')).toBe(words);
    expect(splitText('x'.repeat(10_000)).map((c) => c.length)).toEqual([4096, 4096, 1808]);
  });

  it('keeps escaped <pre> blocks within the limit even when escaping multiplies the text', () => {
    const blocks = preBlocks('<&>'.repeat(5_000));
    expect(blocks.every((b) => b.length <= TELEGRAM_TEXT_LIMIT)).toBe(true);
    const decoded = blocks
      .map((b) => b.slice(5, -6).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'))
      .join('');
    expect(decoded.replace(/\s/g, '')).toBe('<&>'.repeat(5_000));
  });

  it('round-trips button data and rejects anything else', () => {
    expect(decodeButton(encodeButton('destroy!', 42))).toEqual({ action: 'destroy!', taskId: 42 });
    expect(Buffer.byteLength(encodeButton('destroy!', 2 ** 31 - 1))).toBeLessThanOrEqual(64);
    expect(decodeButton('rm -rf:1')).toBeNull();
    expect(decodeButton('stop:abc')).toBeNull();
  });

  it('pings for started, completed and failed, with buttons; queued and dequeued are silent', () => {
    expect(eventMessage(event('task_queued'), task, [])).toMatchObject({
      silent: true,
      buttons: [],
    });
    expect(eventMessage(event('task_dequeued'), task, []).silent).toBe(true);
    const started = eventMessage(event('task_started'), task, []);
    expect(started.silent).toBe(false);
    expect(started.buttons.flat().map((b) => b.text)).toEqual(['Stop', 'Logs', 'Destroy', 'Prune']);
    const done = eventMessage(
      event('task_completed', '#7 completed: branch kugetsu/x · 1 file changed'),
      task,
      [],
    );
    expect(done.buttons.flat().map((b) => b.text)).toEqual([
      'Continue',
      'Logs',
      'Destroy',
      'Prune',
    ]);
    expect(done.html).toContain('<i>1m 0s · attempt 1/3</i>');
  });

  it("links a completion to the session's pull request with a button that opens it", () => {
    const pr = { number: 12, url: 'https://git.example.com/me/app/pulls/12' };
    const done = eventMessage(event('task_completed', '#7 completed'), task, [], pr);
    expect(done.buttons[0]).toEqual([{ text: 'Pull request #12', data: '', url: pr.url }]);
    expect(done.buttons.flat().map((b) => b.text)).toContain('Continue');
    // Only completions, and only web links.
    expect(eventMessage(event('task_error', 'x'), task, [], pr).buttons.flat()).not.toContainEqual(
      expect.objectContaining({ url: pr.url }),
    );
    const odd = { number: 1, url: 'javascript:alert(1)' };
    expect(eventMessage(event('task_completed', 'x'), task, [], odd).buttons[0]?.[0]?.text).toBe(
      'Continue',
    );
  });

  it('quotes the failure’s last lines, escaped', () => {
    const failed = eventMessage(
      {
        ...event('task_error'),
        data: { error: 'exit code 1: <boom>', attempt: 1, maxAttempts: 3 },
      },
      task,
      ['line 1', 'error: a < b'],
    );
    expect(failed.html).toContain('#7 failed: exit code 1: &lt;boom&gt;');
    expect(failed.html).toContain('<pre>line 1\nerror: a &lt; b</pre>');
  });
});

describe('progress and fallback text', () => {
  it('shows the last line the agent wrote, not kugetsu notes or blanks', async () => {
    const { lastMeaningfulLine } = await import('../bot/views/progress-view.js');
    expect(
      lastMeaningfulLine([
        'reading',
        'writing tests',
        '',
        '[kugetsu] note',
        'KUGETSU_AGENT_SESSION=s1',
      ]),
    ).toBe('writing tests');
    expect(lastMeaningfulLine(['[kugetsu] only notes'])).toBeNull();
    expect(lastMeaningfulLine(['x'.repeat(500)])).toBe(`${'x'.repeat(300)}…`);
  });

  it('renders elapsed time and escapes the line', async () => {
    const { progressHtml } = await import('../bot/views/progress-view.js');
    const running = {
      id: 3,
      issueRef: 'h/o/r#1',
      startedAt: 1_000,
      attempts: 2,
      maxAttempts: 3,
    } as Task;
    expect(progressHtml(running, 96_000, 'a <b> & c')).toBe(
      '▶️ <b>running</b> · <code>h/o/r#1</code>\n#3 · 1m 35s · attempt 2/3\n<i>a &lt;b&gt; &amp; c</i>',
    );
  });

  it('turns rejected HTML back into the text a user should read', async () => {
    const { htmlToPlain } = await import('../bot/plain-text-fallback.js');
    expect(htmlToPlain('<b>done</b> &lt;x&gt; &amp; &quot;y&quot;')).toBe('done <x> & "y"');
  });
});

describe('event lines', () => {
  it('come from the event’s data, never from its stored text', async () => {
    const { eventLine } = await import('../bot/views/event-line.js');
    const usage = {
      inputTokens: 1200,
      outputTokens: 300,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.04,
    };
    const done = {
      ...event('task_completed', 'stale text'),
      data: { result: 'branch kugetsu/x', usage },
    };
    expect(eventLine(done)).toMatch(/^#7 completed: branch kugetsu\/x · .*\$0\.04/);
    expect(eventMessage(done, task, []).html).not.toContain('stale text');
    expect(eventLine({ ...event('task_queued'), issueRef: null, data: { mode: 'continue' } })).toBe(
      '#7 continue queued for the PM agent',
    );
    expect(
      eventLine({ ...event('task_error'), data: { error: 'exit 1', attempt: 2, maxAttempts: 2 } }),
    ).toBe('#7 failed: exit 1');
  });
});
