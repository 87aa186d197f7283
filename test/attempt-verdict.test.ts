/** The runner's pure decisions: what a run's end means, and the token budgets. */
import { describe, expect, it } from 'vitest';
import type { AgentReport } from '../core/agents/agent-output.js';
import type { Usage } from '../core/domain.js';
import {
  completedResult,
  failedOutcome,
  judgeRun,
  type AgentRunFacts,
} from '../core/runner/attempt-verdict.js';
import {
  dailyBudgetExceeded,
  startOfUtcDay,
  taskBudgetExceeded,
} from '../core/runner/budget-check.js';
import { runFacts } from './helpers/run-facts.js';

const limits = { taskTimeoutMs: 90_000, stallTimeoutMs: 30_000 };

const run = (over: Partial<AgentRunFacts> = {}, said: Partial<AgentReport> = {}) =>
  runFacts(over, { sessionId: 's1', finalText: 'done it', ...said });

describe('judgeRun', () => {
  it('succeeds on exit 0, and on any exit once a driver finished the conversation', () => {
    expect(judgeRun(run(), limits)).toEqual({
      kind: 'succeeded',
      finalText: 'done it',
      agentSessionId: 's1',
    });
    expect(judgeRun(run({ stopReason: 'finished', exitCode: null }), limits).kind).toBe(
      'succeeded',
    );
  });

  it('says how the process ended, quoting what it said last', () => {
    expect(judgeRun(run({ exitCode: 3, lastLine: 'boom' }), limits)).toMatchObject({
      kind: 'failed',
      error: 'exit code 3: boom',
      permanent: false,
    });
    expect(
      judgeRun(run({ exitCode: null, signal: 'SIGKILL' }, { error: 'out of memory' }), limits),
    ).toMatchObject({ error: 'killed by SIGKILL: out of memory' });
    expect(judgeRun(run({ exitCode: 1, lastLine: 'x'.repeat(300) }), limits)).toMatchObject({
      error: `exit code 1: ${'x'.repeat(200)}…`,
    });
    expect(judgeRun(run({ spawnError: 'ENOENT', exitCode: null }), limits)).toMatchObject({
      error: 'agent did not start: ENOENT',
    });
    expect(
      judgeRun(run({ stopReason: 'finished', driverError: 'turn failed' }), limits),
    ).toMatchObject({ kind: 'failed', error: 'turn failed', permanent: false });
  });

  it('tells a stop, a shutdown, a timeout and a stall apart', () => {
    expect(judgeRun(run({ stopReason: 'stopped' }), limits)).toEqual({
      kind: 'cancelled',
      agentSessionId: 's1',
    });
    expect(judgeRun(run({ stopReason: 'shutdown' }), limits).kind).toBe('interrupted');
    expect(judgeRun(run({ stopReason: 'timeout' }), limits)).toMatchObject({
      error: 'timed out after 1.5 min (KUGETSU_TASK_TIMEOUT_MINUTES)',
      permanent: false,
    });
    expect(judgeRun(run({ stopReason: 'stall' }), limits)).toMatchObject({
      error: 'stalled: no output for 30 s (KUGETSU_STALL_TIMEOUT_MINUTES)',
      permanent: false,
    });
  });

  it('fails for good on a budget and on refused credentials, not on an unreachable model', () => {
    expect(judgeRun(run({ stopReason: 'budget', overBudget: 'budget: 9k' }), limits)).toEqual({
      kind: 'failed',
      error: 'budget: 9k',
      agentSessionId: 's1',
      permanent: true,
    });
    const auth = { kind: 'auth' as const, message: 'claude: not logged in' };
    expect(judgeRun(run({ fatal: auth, stopReason: 'fatal' }), limits)).toMatchObject({
      error: 'claude: not logged in',
      permanent: true,
    });
    const unreachable = { kind: 'unreachable' as const, message: 'no model endpoint' };
    expect(judgeRun(run({ exitCode: 1 }, { fatal: unreachable }), limits)).toMatchObject({
      error: 'no model endpoint',
      permanent: false,
    });
  });

  it('reports a lost session whatever id the run announced', () => {
    const lost = { kind: 'session_lost' as const, sessionId: 'old', message: 'gone' };
    expect(judgeRun(run({ exitCode: 1 }, { fatal: lost, sessionId: 'new' }), limits)).toEqual({
      kind: 'session_lost',
      lostSessionId: 'old',
    });
  });

  it('needs input when the agent asked, with its last words', () => {
    expect(judgeRun(run({}, { question: 'Which one?' }), limits)).toEqual({
      kind: 'needs_input',
      question: 'Which one?\ndone it',
      agentSessionId: 's1',
    });
  });
});

describe('outcomes', () => {
  it('backs off while attempts are left, and never retries a permanent failure', () => {
    const failure = { error: 'e', agentSessionId: null, permanent: false };
    expect(failedOutcome({ attempts: 1, maxAttempts: 3 }, failure, 10_000)).toEqual({
      kind: 'failed',
      error: 'e',
      agentSessionId: null,
      retryDelayMs: 10_000,
    });
    expect(failedOutcome({ attempts: 2, maxAttempts: 3 }, failure, 10_000)).toMatchObject({
      retryDelayMs: 20_000,
    });
    expect(failedOutcome({ attempts: 3, maxAttempts: 3 }, failure, 10_000)).toMatchObject({
      retryDelayMs: null,
    });
    expect(
      failedOutcome({ attempts: 1, maxAttempts: 3 }, { ...failure, permanent: true }, 10_000),
    ).toMatchObject({ retryDelayMs: null });
  });

  it("keeps the agent's answer under the hand-off's summary, except a command agent's output", () => {
    expect(completedResult('fixed', 'claude', 'branch b · pushed')).toBe(
      'branch b · pushed\nfixed',
    );
    expect(completedResult('fixed', 'command', 'branch b · pushed')).toBe('branch b · pushed');
    expect(completedResult(null, 'claude', null)).toBe('done');
    expect(completedResult('y'.repeat(3001), 'claude', null)).toHaveLength(3001);
  });
});

describe('budgets', () => {
  const usage = (tokens: number): Usage => ({
    inputTokens: tokens,
    outputTokens: 0,
    cacheReadTokens: 1_000_000,
    cacheWriteTokens: 0,
    costUsd: null,
  });

  it("counts the task's earlier runs and this one, but not cache reads", () => {
    const budgets = { taskTokenBudget: 10_000, dailyTokenBudget: null };
    expect(taskBudgetExceeded(budgets, usage(4_000), usage(5_999))).toBeNull();
    expect(taskBudgetExceeded(budgets, usage(4_000), usage(6_000))).toBe(
      'budget: the task used 10k tokens of KUGETSU_TASK_BUDGET=10000',
    );
    expect(taskBudgetExceeded({ ...budgets, taskTokenBudget: null }, null, usage(1e9))).toBeNull();
  });

  it("stops at the day's budget", () => {
    const budgets = { taskTokenBudget: null, dailyTokenBudget: 2_000_000 };
    expect(dailyBudgetExceeded(budgets, 1_999_999)).toBeNull();
    expect(dailyBudgetExceeded(budgets, 2_000_000)).toBe(
      'budget: 2M tokens used today (UTC) of KUGETSU_DAILY_BUDGET=2000000',
    );
    expect(dailyBudgetExceeded({ ...budgets, dailyTokenBudget: null }, 9e9)).toBeNull();
  });

  it('starts the day at midnight UTC', () => {
    const noon = Date.UTC(2026, 11, 3, 12, 30);
    expect(startOfUtcDay(noon)).toBe(Date.UTC(2026, 11, 3));
  });
});
