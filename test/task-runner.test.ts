/**
 * The runner's orchestration, driven with a fake ledger and fake steps: which steps run, in what
 * order, what outcome is recorded, and that it is recorded exactly once. No process, file or
 * database: each test takes milliseconds.
 */
import { describe, expect, it } from 'vitest';
import type { AgentReport } from '../core/agents/agent-output.js';
import type { Session, Task, Usage } from '../core/domain.js';
import { OperationError } from '../core/errors.js';
import type { AgentRunFacts } from '../core/runner/attempt-verdict.js';
import type { RunLedger } from '../core/runner/run-ledger.js';
import type { AttemptStart, RunnerConfig, RunSteps, Workspace } from '../core/runner/run-steps.js';
import { TaskRunner } from '../core/runner/task-runner.js';
import type { AttemptOutcome } from '../core/store/records.js';
import { runFacts } from './helpers/run-facts.js';

const ISSUE = 'git.example.com/me/app#14';
const usage: Usage = {
  inputTokens: 1000,
  outputTokens: 200,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: null,
};

function devTask(over: Partial<Task> = {}): Task {
  return {
    id: 7,
    kind: 'dev',
    mode: 'start',
    issueRef: ISSUE,
    message: 'fix it',
    agent: 'claude',
    model: null,
    state: 'running',
    attempts: 1,
    maxAttempts: 3,
    notBefore: null,
    waitReason: null,
    lastError: null,
    result: null,
    cancelRequested: false,
    usage: null,
    createdAt: 0,
    startedAt: 10,
    finishedAt: null,
    ...over,
  };
}

const session: Session = {
  issueRef: ISSUE,
  workspaceKey: 'git.example.com-me-app-14',
  serverName: 'forge',
  repoPath: 'me/app',
  worktreePath: '/w/git.example.com-me-app-14',
  branch: 'kugetsu/git.example.com-me-app-14',
  state: 'used',
  agent: 'claude',
  agentSessionId: 'sess-old',
  lastMessage: null,
  lastTaskId: null,
  createdAt: 0,
  updatedAt: 0,
  pullRequest: null,
  issueState: null,
};

/** The run the tests start from: exit 0 with usage and an answer. */
function facts(over: Partial<AgentRunFacts> = {}, said: Partial<AgentReport> = {}): AgentRunFacts {
  return runFacts(over, { usage, ...said });
}

/** A ledger that keeps what the runner told it. */
class FakeLedger implements RunLedger {
  readonly calls: string[] = [];
  readonly finished: { runId: number | null; exitCode: number | null; outcome: AttemptOutcome }[] =
    [];
  sessions = new Map<string, Session>([[ISSUE, session]]);
  base: { agent: 'claude'; sessionId: string | null; createdAt: number } | null = null;
  todayTokens = 0;
  failStartRun = false;
  readonly approvals = {
    open: () => Promise.reject(new Error('no approvals in these tests')),
    get: () => Promise.resolve(null),
    resolve: () => Promise.reject(new Error('no approvals in these tests')),
    grants: () => Promise.resolve(new Set<never>()),
    hasOpen: () => Promise.resolve(false),
  };

  private note(call: string): Promise<void> {
    this.calls.push(call);
    return Promise.resolve();
  }

  session = (issueRef: string) => Promise.resolve(this.sessions.get(issueRef) ?? null);
  attachments = () => Promise.resolve([]);
  startRun = async (_taskId: number, _attempt: number, mode: string) => {
    await this.note(`startRun ${mode}`);
    if (this.failStartRun) throw new Error('database is locked');
    return 41;
  };
  recordAgentProcess = () => this.note('recordAgentProcess');
  markSpawned = () => this.note('markSpawned');
  recordUsage = () => this.note('recordUsage');
  budgetTokensSince = async () => {
    await this.note('budgetTokensSince');
    return this.todayTokens;
  };
  setAgentSessionId = (ref: string, id: string) => this.note(`setAgentSessionId ${ref} ${id}`);
  clearAgentSessionId = (ref: string) => this.note(`clearAgentSessionId ${ref}`);
  setPullRequest = () => this.note('setPullRequest');
  claimHolds = () => Promise.resolve(true);
  baseSession = () => Promise.resolve(this.base);
  deleteBaseSession = (agent: string) => this.note(`deleteBaseSession ${agent}`);
  pmSession = () => Promise.resolve(null);
  setPmSession = (agent: string, id: string | null) => this.note(`setPmSession ${agent} ${id}`);
  sessionTotals = () => Promise.resolve(null);
  setSessionTotals = () => this.note('setSessionTotals');
  finishAttempt = async (
    taskId: number,
    runId: number | null,
    exitCode: number | null,
    outcome: AttemptOutcome,
  ) => {
    await this.note('finishAttempt');
    this.finished.push({ runId, exitCode, outcome });
    const state =
      outcome.kind === 'failed' || outcome.kind === 'interrupted' ? 'pending' : outcome.kind;
    return devTask({ id: taskId, state });
  };
}

const workspace: Workspace = {
  cwd: session.worktreePath,
  session,
  target: {
    server: {
      name: 'forge',
      kind: 'gitea',
      url: 'https://git.example.com',
      host: 'git.example.com',
      apiUrl: null,
      tokenEnv: null,
      isDefault: true,
    },
    repoPath: 'me/app',
    workspaceKey: session.workspaceKey,
    worktreePath: session.worktreePath,
    branch: session.branch,
  },
  workflow: null,
  attachments: [],
};

/** Steps that record their calls; the agent step does what the test says. */
function fakeSteps(
  agent: (attempt: AttemptStart) => Promise<AgentRunFacts>,
  over: Partial<RunSteps> = {},
): { steps: RunSteps; calls: string[] } {
  const calls: string[] = [];
  const steps: RunSteps = {
    prepare: (_attempt, s) => {
      calls.push('prepare');
      return Promise.resolve(
        s === null ? { ...workspace, session: null, target: null } : workspace,
      );
    },
    renderPrompt: () => {
      calls.push('renderPrompt');
      return Promise.resolve({ prompt: 'Issue 14: the parser breaks', title: 'Parser breaks' });
    },
    runAgent: (attempt) => {
      calls.push('runAgent');
      return agent(attempt);
    },
    afterRun: () => {
      calls.push('afterRun');
      return Promise.resolve();
    },
    handOff: (_attempt, ws, answer, title) => {
      calls.push(`handOff ${ws.target.branch} ${title} ${answer}`);
      return Promise.resolve(`branch ${ws.target.branch} · 1 file changed · pushed`);
    },
    ...over,
  };
  return { steps, calls };
}

const config: RunnerConfig = {
  retryBaseMs: 10_000,
  taskTimeoutMs: 3_600_000,
  stallTimeoutMs: 600_000,
  taskTokenBudget: null,
  dailyTokenBudget: null,
};

function runnerWith(
  ledger: FakeLedger,
  steps: RunSteps,
  over: Partial<RunnerConfig> = {},
): { runner: TaskRunner; transcript: string[]; log: string[] } {
  const transcript: string[] = [];
  const log: string[] = [];
  const runner = new TaskRunner({
    ledger,
    steps,
    config: { ...config, ...over },
    openTranscript: () => ({
      path: '/logs/7-1.log',
      note: (text) => transcript.push(`[kugetsu] ${text}`),
      line: (text) => transcript.push(text),
      close: () => Promise.resolve(),
    }),
    scrub: (text) => text.replaceAll('hunter2', '***MASKED***'),
    log: (line) => log.push(line),
  });
  return { runner, transcript, log };
}

describe('the task runner', () => {
  it('hands a success off once, after the agent and its after_run hook, and records it', async () => {
    const ledger = new FakeLedger();
    const { steps, calls } = fakeSteps(() => Promise.resolve(facts()));
    const { runner, log } = runnerWith(ledger, steps);
    const finished = await runner.run(devTask());
    expect(calls).toEqual([
      'prepare',
      'renderPrompt',
      'runAgent',
      'afterRun',
      `handOff ${session.branch} Parser breaks Fixed the parser.`,
    ]);
    expect(ledger.finished).toEqual([
      {
        runId: 41,
        exitCode: 0,
        outcome: {
          kind: 'completed',
          result: `branch ${session.branch} · 1 file changed · pushed\nFixed the parser.`,
          agentSessionId: 'sess-1',
        },
      },
    ]);
    // A used session with an agent session continues it.
    expect(ledger.calls[0]).toBe('startRun continue');
    expect(finished.state).toBe('completed');
    expect(log).toEqual(['task #7 attempt 1 ended: completed (exit 0)']);
    expect(runner.runningCount).toBe(0);
  });

  it("completes a PM task with the agent's answer and no hand-off", async () => {
    const ledger = new FakeLedger();
    const { steps, calls } = fakeSteps(() => Promise.resolve(facts({}, { finalText: null })));
    const { runner } = runnerWith(ledger, steps);
    await runner.run(devTask({ kind: 'pm', issueRef: null }));
    expect(calls.some((c) => c.startsWith('handOff'))).toBe(false);
    expect(ledger.finished[0]?.outcome).toEqual({
      kind: 'completed',
      result: 'done',
      agentSessionId: 'sess-1',
    });
  });

  it('does not hand off a failed run, and retries it with backoff while attempts are left', async () => {
    const ledger = new FakeLedger();
    const failing = facts({ exitCode: 1, lastLine: 'error: tests fail, token hunter2' });
    const { steps, calls } = fakeSteps(() => Promise.resolve(failing));
    const { runner, transcript } = runnerWith(ledger, steps);
    await runner.run(devTask({ attempts: 2 }));
    expect(calls).toEqual(['prepare', 'renderPrompt', 'runAgent', 'afterRun']);
    expect(ledger.finished[0]).toEqual({
      runId: 41,
      exitCode: 1,
      outcome: {
        kind: 'failed',
        error: 'exit code 1: error: tests fail, token ***MASKED***',
        agentSessionId: 'sess-1',
        retryDelayMs: 20_000,
      },
    });
    expect(transcript.at(-1)).toMatch(/^\[kugetsu\] failed: exit code 1: .*; retrying in 20s$/);
  });

  it('gives up after the last attempt', async () => {
    const ledger = new FakeLedger();
    const { steps } = fakeSteps(() => Promise.resolve(facts({ exitCode: 2 })));
    const { runner, transcript } = runnerWith(ledger, steps);
    await runner.run(devTask({ attempts: 3 }));
    expect(ledger.finished[0]?.outcome).toMatchObject({ kind: 'failed', retryDelayMs: null });
    expect(transcript.at(-1)).toMatch(/giving up$/);
  });

  it('takes retry or not from the error a step throws', async () => {
    const permanent = new FakeLedger();
    const broken = new OperationError('WORKFLOW.md line 3: unknown variable', { permanent: true });
    const first = fakeSteps(() => Promise.resolve(facts()), {
      prepare: () => Promise.reject(broken),
    });
    await runnerWith(permanent, first.steps).runner.run(devTask());
    expect(first.calls).toEqual([]);
    expect(permanent.finished[0]?.outcome).toEqual({
      kind: 'failed',
      error: 'WORKFLOW.md line 3: unknown variable',
      agentSessionId: null,
      retryDelayMs: null,
    });

    const transient = new FakeLedger();
    const second = fakeSteps(() => Promise.resolve(facts()), {
      renderPrompt: () => Promise.reject(new OperationError('forge: 502 Bad Gateway')),
    });
    await runnerWith(transient, second.steps).runner.run(devTask());
    expect(second.calls).toEqual(['prepare']);
    expect(transient.finished[0]?.outcome).toMatchObject({
      kind: 'failed',
      error: 'forge: 502 Bad Gateway',
      retryDelayMs: 10_000,
    });
  });

  it('fails for good before the agent starts when the task is over its budget', async () => {
    const ledger = new FakeLedger();
    const { steps, calls } = fakeSteps(() => Promise.resolve(facts()));
    const { runner } = runnerWith(ledger, steps, { taskTokenBudget: 1000 });
    await runner.run(devTask({ usage }));
    expect(calls).toEqual(['prepare', 'renderPrompt', 'afterRun']);
    expect(ledger.finished[0]?.outcome).toEqual({
      kind: 'failed',
      error: 'budget: the task used 1.2k tokens of KUGETSU_TASK_BUDGET=1000',
      agentSessionId: null,
      retryDelayMs: null,
    });
  });

  it("counts the day's tokens of every task against the daily budget", async () => {
    const ledger = new FakeLedger();
    ledger.todayTokens = 5_000;
    const { steps, calls } = fakeSteps(() => Promise.resolve(facts()));
    const { runner } = runnerWith(ledger, steps, { dailyTokenBudget: 5_000 });
    await runner.run(devTask());
    expect(calls).not.toContain('runAgent');
    expect(ledger.calls).toContain('budgetTokensSince');
    expect(ledger.finished[0]?.outcome).toMatchObject({
      kind: 'failed',
      error: 'budget: 5k tokens used today (UTC) of KUGETSU_DAILY_BUDGET=5000',
      retryDelayMs: null,
    });
  });

  it('forgets a session the agent lost, so the next attempt starts a new one', async () => {
    const ledger = new FakeLedger();
    const lost = facts(
      { exitCode: 1 },
      { fatal: { kind: 'session_lost', sessionId: 'sess-old', message: 'no such session' } },
    );
    const { steps } = fakeSteps(() => Promise.resolve(lost));
    const { runner } = runnerWith(ledger, steps);
    await runner.run(devTask());
    expect(ledger.calls).toContain(`clearAgentSessionId ${ISSUE}`);
    expect(ledger.finished[0]?.outcome).toEqual({
      kind: 'failed',
      error: 'claude has no record of session sess-old: the next attempt starts a new session',
      agentSessionId: null,
      retryDelayMs: 10_000,
    });
  });

  it('forgets a lost base session instead of the issue’s own', async () => {
    const ledger = new FakeLedger();
    ledger.base = { agent: 'claude', sessionId: 'base-1', createdAt: 0 };
    const lost = facts(
      {},
      { fatal: { kind: 'session_lost', sessionId: 'base-1', message: 'no such session' } },
    );
    const { steps } = fakeSteps(() => Promise.resolve(lost));
    await runnerWith(ledger, steps).runner.run(devTask());
    expect(ledger.calls).toContain('deleteBaseSession claude');
    expect(ledger.calls.some((c) => c.startsWith('clearAgentSessionId'))).toBe(false);
    expect(ledger.finished[0]?.outcome).toMatchObject({
      kind: 'failed',
      error: expect.stringContaining('the base session base-1: kugetsu forgot it') as string,
    });
  });

  it('ends on the question when the agent asks, without a hand-off', async () => {
    const ledger = new FakeLedger();
    const asking = facts({}, { question: 'Which branch?', finalText: 'I need to know.' });
    const { steps, calls } = fakeSteps(() => Promise.resolve(asking));
    const { runner, transcript } = runnerWith(ledger, steps);
    await runner.run(devTask());
    expect(calls.some((c) => c.startsWith('handOff'))).toBe(false);
    expect(transcript).toContain('[kugetsu] needs input: Which branch?');
    expect(ledger.finished[0]?.outcome).toEqual({
      kind: 'needs_input',
      question: 'Which branch?\nI need to know.',
      agentSessionId: 'sess-1',
    });
  });

  it('retries a stalled or timed-out run', async () => {
    for (const [stopReason, error] of [
      ['stall', 'stalled: no output for 10 min (KUGETSU_STALL_TIMEOUT_MINUTES)'],
      ['timeout', 'timed out after 60 min (KUGETSU_TASK_TIMEOUT_MINUTES)'],
    ] as const) {
      const ledger = new FakeLedger();
      const ended = facts({ stopReason, exitCode: null, signal: 'SIGTERM' });
      const { steps, calls } = fakeSteps(() => Promise.resolve(ended));
      await runnerWith(ledger, steps).runner.run(devTask());
      expect(calls).not.toContainEqual(expect.stringMatching(/^handOff/));
      expect(ledger.finished[0]?.outcome).toEqual({
        kind: 'failed',
        error,
        agentSessionId: 'sess-1',
        retryDelayMs: 10_000,
      });
    }
  });

  it('cancels a running agent through stop, and records the attempt once', async () => {
    const ledger = new FakeLedger();
    const { steps, calls } = fakeSteps(
      ({ control }) =>
        new Promise((resolve) => {
          control.abort.signal.addEventListener('abort', () =>
            resolve(facts({ stopReason: control.stopRequested, exitCode: null })),
          );
        }),
    );
    const { runner } = runnerWith(ledger, steps);
    const running = runner.run(devTask());
    await until(() => calls.includes('runAgent'));
    expect(runner.isRunning(7)).toBe(true);
    runner.stop(7, 'stopped');
    runner.stop(7, 'shutdown');
    await running;
    expect(calls).toEqual(['prepare', 'renderPrompt', 'runAgent', 'afterRun']);
    expect(ledger.finished).toEqual([
      { runId: 41, exitCode: null, outcome: { kind: 'cancelled', agentSessionId: 'sess-1' } },
    ]);
    expect(runner.isRunning(7)).toBe(false);
  });

  it('does not start the agent when a shutdown came while the workspace was prepared', async () => {
    const ledger = new FakeLedger();
    let runner: TaskRunner | null = null;
    const { steps, calls } = fakeSteps(() => Promise.resolve(facts()), {
      prepare: () => {
        runner?.stopAll('shutdown');
        return Promise.resolve(workspace);
      },
    });
    runner = runnerWith(ledger, steps).runner;
    await runner.run(devTask());
    expect(calls).toEqual(['renderPrompt']);
    expect(ledger.finished[0]?.outcome).toEqual({ kind: 'interrupted', agentSessionId: null });
  });

  it('still records the attempt, and frees its place, when the run cannot even start', async () => {
    const ledger = new FakeLedger();
    ledger.failStartRun = true;
    const { steps, calls } = fakeSteps(() => Promise.resolve(facts()));
    const { runner } = runnerWith(ledger, steps);
    await runner.run(devTask());
    expect(calls).toEqual([]);
    expect(ledger.finished).toEqual([
      {
        runId: null,
        exitCode: null,
        outcome: {
          kind: 'failed',
          error: 'database is locked',
          agentSessionId: null,
          retryDelayMs: 10_000,
        },
      },
    ]);
    expect(runner.runningCount).toBe(0);
  });
});

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 1));
}
