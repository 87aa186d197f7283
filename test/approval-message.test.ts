/** What an approval looks like on the phone, open and resolved: pure views. */
import { describe, expect, it } from 'vitest';
import {
  approvalRequestView,
  approvalResolvedView,
  decodeApprovalButton,
  encodeApprovalButton,
} from '../bot/views/approval-message.js';
import { TELEGRAM_TEXT_LIMIT } from '../bot/views/format.js';
import type { Approval } from '../core/approvals/approval.js';

const base: Approval = {
  id: 12,
  taskId: 4,
  issueRef: 'git.example.com/me/app#14',
  agent: 'claude',
  kind: 'permission',
  tool: 'Bash',
  category: 'bash',
  subject: 'rm -rf build && echo "<done>"',
  reason: 'clean before building',
  options: [],
  state: 'open',
  scope: null,
  answer: null,
  answeredBy: null,
  createdAt: 0,
  expiresAt: 30 * 60_000,
  resolvedAt: null,
};

describe('approval views', () => {
  it('shows an open permission with its command escaped, the reason, the deadline and three buttons', () => {
    const view = approvalRequestView(base, 600_000, 0);
    expect(view.html).toContain('<pre>rm -rf build &amp;&amp; echo "&lt;done&gt;"</pre>');
    expect(view.html).toContain('<i>clean before building</i>');
    expect(view.html).toContain('Unanswered in 30m 0s: denied.');
    expect(view.buttons.map((row) => row.map((b) => [b.text, b.data]))).toEqual([
      [
        ['Allow once', 'approval:once:12'],
        ['Allow for this task', 'approval:task:12'],
      ],
      [['Deny', 'approval:deny:12']],
    ]);
  });

  it('offers a stall more time or a stop, and a question its answers', () => {
    const stall = approvalRequestView(
      { ...base, kind: 'stall', subject: 'has been silent for 10 min' },
      600_000,
      0,
    );
    expect(stall.buttons.flat().map((b) => b.text)).toEqual(['Give 10 more minutes', 'Stop']);
    const question = approvalRequestView(
      {
        ...base,
        kind: 'question',
        category: 'question',
        subject: 'Which one?',
        options: ['a', 'b'],
      },
      90_000,
      0,
    );
    expect(question.html).toContain('Reply to this message to answer.');
    expect(question.buttons.flat().map((b) => b.data)).toEqual([
      'approval:pick0:12',
      'approval:pick1:12',
      'approval:deny:12',
    ]);
  });

  it('shows who answered once resolved, without buttons or the deadline', () => {
    const view = approvalResolvedView(
      {
        ...base,
        state: 'allowed',
        scope: 'task',
        answeredBy: { channel: 'telegram', who: '@alice' },
      },
      0,
    );
    expect(view.buttons).toEqual([]);
    expect(view.html).toContain('✅ <b>allowed for the rest of task #4 by @alice (telegram)</b>');
    expect(view.html).not.toContain('Unanswered in');
  });

  it('stays within Telegram’s limit for a huge command, with valid HTML', () => {
    const view = approvalRequestView({ ...base, subject: 'x'.repeat(20_000) }, 1, 0);
    expect(view.html.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(view.html.match(/<pre>/g)?.length).toBe(view.html.match(/<\/pre>/g)?.length);
  });

  it('round-trips its buttons and rejects anything else', () => {
    expect(decodeApprovalButton(encodeApprovalButton('task', 7))).toEqual({ verb: 'task', id: 7 });
    expect(decodeApprovalButton('approval:pick3:9')).toEqual({ verb: 'pick', option: 3, id: 9 });
    for (const bad of ['approval:yes:1', 'approval:once:', 'approval:once:1:2', 'stop:1'])
      expect(decodeApprovalButton(bad)).toBeNull();
  });
});
