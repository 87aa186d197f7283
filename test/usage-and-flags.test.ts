import { describe, expect, it } from 'vitest';
import { eventMessage } from '../bot/views/event-message.js';
import { parseTaskFlags } from '../bot/task-flags.js';
import type { KugetsuEvent } from '../core/domain.js';
import { addUsage, budgetTokens, formatUsage, subtractUsage, ZERO_USAGE } from '../core/usage.js';

const usage = {
  inputTokens: 1200,
  outputTokens: 80,
  cacheReadTokens: 30_000,
  cacheWriteTokens: 500,
  costUsd: 0.0163,
};

describe('usage', () => {
  it('counts input, output and cache writes against budgets, not cache reads', () => {
    expect(budgetTokens(usage)).toBe(1780);
  });

  it('adds and subtracts, keeping an unreported cost unknown', () => {
    expect(addUsage(ZERO_USAGE, ZERO_USAGE).costUsd).toBeNull();
    expect(addUsage(usage, usage)).toMatchObject({ inputTokens: 2400, costUsd: 0.0326 });
    expect(subtractUsage(usage, { ...usage, inputTokens: 2000, costUsd: null })).toMatchObject({
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0.0163,
    });
  });

  it('renders one short line', () => {
    expect(formatUsage(usage)).toBe('1.2k in, 80 out, 31k cached, $0.016');
    expect(formatUsage({ ...ZERO_USAGE, outputTokens: 12_345_678 })).toBe('0 in, 12.3M out');
  });
});

describe('/delegate flags', () => {
  it('takes leading --agent and --model, leaving the message whole', () => {
    expect(
      parseTaskFlags('--agent claude --model=sonnet fix the --agent flag in me/app#3'),
    ).toEqual({
      agent: 'claude',
      model: 'sonnet',
      message: 'fix the --agent flag in me/app#3',
    });
    expect(parseTaskFlags('just do it')).toEqual({
      agent: undefined,
      model: undefined,
      message: 'just do it',
    });
  });

  it('refuses a flag without a value, twice, or unknown, in one line', () => {
    expect(() => parseTaskFlags('--agent')).toThrow('--agent needs a value');
    expect(() => parseTaskFlags('--model a --model b go')).toThrow('--model is given twice');
    expect(() => parseTaskFlags('--force go')).toThrow('unknown option "--force"');
  });
});

describe('needs_input push', () => {
  const event: KugetsuEvent = {
    id: 9,
    type: 'task_needs_input',
    taskId: 4,
    issueRef: 'git.example.com/me/app#14',
    message: '#4 needs your input: claude was refused permission for: $ rm -rf build',
    data: {},
    createdAt: 0,
    readAt: null,
  };

  it('asks loudly, with a Reply button that continues the session', () => {
    const message = eventMessage(event, null, []);
    expect(message.silent).toBe(false);
    expect(message.html).toContain('needs your input');
    expect(message.buttons[0]?.map((b) => [b.text, b.data])).toEqual([
      ['Reply', 'continue:4'],
      ['Logs', 'logs:4'],
    ]);
  });

  it('offers the PM agent no Destroy or Prune: it has no worktree', () => {
    const message = eventMessage({ ...event, issueRef: null }, null, []);
    expect(message.buttons).toHaveLength(1);
  });
});
