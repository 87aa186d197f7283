/**
 * Runs one claimed task attempt through its steps — prepare the workspace, render the prompt,
 * run the agent, hand off a success — and records the outcome. The caller has already claimed
 * the slot; the runner guarantees `finishAttempt` (which releases it) runs exactly once per
 * attempt, and only after the agent's whole process group is gone (the agent step returns only
 * then). Decisions are pure (attempt-verdict.ts, budget-check.ts); durable state is the ledger.
 */
import type { StopReason } from '../agents/agent-supervisor.js';
import type { Session, Task, TaskMode, Usage } from '../domain.js';
import { OperationError, errorMessage, isPermanentError } from '../errors.js';
import { effectiveMode } from '../session-rules.js';
import type { AttemptOutcome } from '../store/records.js';
import { ZERO_USAGE } from '../usage.js';
import {
  completedResult,
  failedOutcome,
  failureNote,
  judgeRun,
  lostSessionMessage,
  scrubOutcome,
  stoppedVerdict,
  type AgentRunFacts,
} from './attempt-verdict.js';
import { dailyBudgetExceeded, startOfUtcDay, taskBudgetExceeded } from './budget-check.js';
import { forgetLostSession } from './run-ledger.js';
import type {
  AttemptControl,
  AttemptStart,
  IssuePrompt,
  RunnerDeps,
  Transcript,
  Workspace,
} from './run-steps.js';

interface Ended {
  outcome: AttemptOutcome;
  exitCode: number | null;
  usage: Usage | null;
}

export class TaskRunner {
  private readonly active = new Map<number, AttemptControl>();

  constructor(private readonly deps: RunnerDeps) {}

  get runningCount(): number {
    return this.active.size;
  }

  isRunning(taskId: number): boolean {
    return this.active.has(taskId);
  }

  /** Asks a run to end; it still finishes through the normal path. */
  stop(taskId: number, reason: StopReason): void {
    const control = this.active.get(taskId);
    if (control === undefined) return;
    control.stopRequested ??= reason;
    control.process?.stop(reason);
    control.abort.abort();
  }

  stopAll(reason: StopReason): void {
    for (const id of this.active.keys()) this.stop(id, reason);
  }

  /**
   * Runs one attempt of a claimed task to its end. Everything after the claim MUST reach
   * `finishAttempt`, which releases the slot: a throw that skipped it would leave the slot held
   * until the next daemon's recovery.
   */
  async run(task: Task): Promise<Task> {
    const control: AttemptControl = {
      process: null,
      stopRequested: null,
      abort: new AbortController(),
    };
    this.active.set(task.id, control);
    const { ledger } = this.deps;
    let runId: number | null = null;
    let transcript: Transcript | null = null;
    let ended: Ended;
    try {
      transcript = this.deps.openTranscript(task);
      const session = task.issueRef === null ? null : await ledger.session(task.issueRef);
      const mode: TaskMode = task.kind === 'pm' ? task.mode : effectiveMode(task.mode, session);
      runId = await ledger.startRun(task.id, task.attempts, mode, transcript.path);
      ended = await this.attempt({ task, mode, runId, transcript, control }, session);
    } catch (err) {
      transcript?.note(`error: ${errorMessage(err)}`);
      ended = this.failedBefore(task, err, null);
    }
    const { outcome, exitCode, usage } = ended;
    if (outcome.kind === 'failed') transcript?.note(failureNote(outcome));
    await transcript?.close();
    const scrubbed = scrubOutcome(outcome, this.deps.scrub);
    try {
      const finished = await ledger.finishAttempt(task.id, runId, exitCode, scrubbed, usage);
      const exit = exitCode === null ? '' : ` (exit ${exitCode})`;
      this.deps.log(`task #${task.id} attempt ${task.attempts} ended: ${scrubbed.kind}${exit}`);
      return finished;
    } finally {
      this.active.delete(task.id);
    }
  }

  /** The attempt's steps; failures come back as outcomes. */
  private async attempt(start: AttemptStart, session: Session | null): Promise<Ended> {
    const { steps } = this.deps;
    const { task, transcript, control } = start;
    let agentSessionId: string | null = null;
    try {
      transcript.note(
        `task #${task.id} attempt ${task.attempts}/${task.maxAttempts} (${start.mode}) for ${task.issueRef ?? 'the PM agent'}`,
      );
      const workspace = await steps.prepare(start, session);
      const issue = await steps.renderPrompt(start, workspace);
      if (control.stopRequested !== null) {
        const outcome = stoppedVerdict(control.stopRequested, null);
        return { outcome, exitCode: null, usage: null };
      }
      let facts: AgentRunFacts;
      try {
        const over = await this.overBudget(task);
        if (over !== null) throw new OperationError(over, { permanent: true });
        facts = await steps.runAgent(start, workspace, issue);
      } finally {
        await steps.afterRun(start, workspace);
      }
      agentSessionId = facts.report.sessionId;
      const outcome = await this.outcomeOf(start, workspace, issue, facts);
      return { outcome, exitCode: facts.exitCode, usage: facts.report.usage };
    } catch (err) {
      transcript.note(`error: ${errorMessage(err)}`);
      return this.failedBefore(task, err, agentSessionId);
    }
  }

  private async outcomeOf(
    start: AttemptStart,
    workspace: Workspace,
    issue: IssuePrompt | null,
    facts: AgentRunFacts,
  ): Promise<AttemptOutcome> {
    const { task, transcript } = start;
    const verdict = judgeRun(facts, this.deps.config);
    switch (verdict.kind) {
      case 'cancelled':
      case 'interrupted':
        return verdict;
      case 'failed':
        return failedOutcome(task, verdict, this.deps.config.retryBaseMs);
      case 'session_lost': {
        const { lostSessionId } = verdict;
        const wasBase = await forgetLostSession(this.deps.ledger, task, lostSessionId);
        const error = lostSessionMessage(task.agent, lostSessionId, wasBase);
        const failure = { error, agentSessionId: null, permanent: false };
        return failedOutcome(task, failure, this.deps.config.retryBaseMs);
      }
      case 'needs_input':
        transcript.note(`needs input: ${facts.report.question ?? ''}`);
        return verdict;
      case 'succeeded': {
        const { target } = workspace;
        const summary =
          target === null
            ? null
            : await this.deps.steps.handOff(
                start,
                { ...workspace, target },
                verdict.finalText,
                issue?.title ?? null,
              );
        return {
          kind: 'completed',
          result: completedResult(verdict.finalText, task.agent, summary),
          agentSessionId: verdict.agentSessionId,
        };
      }
    }
  }

  /** The budgets, before any token is spent: the task's, then the day's. */
  private async overBudget(task: Task): Promise<string | null> {
    const { config, ledger } = this.deps;
    const perTask = taskBudgetExceeded(config, task.usage, ZERO_USAGE);
    if (perTask !== null || config.dailyTokenBudget === null) return perTask;
    const today = await ledger.budgetTokensSince(startOfUtcDay(Date.now()));
    return dailyBudgetExceeded(config, today);
  }

  /** An attempt that failed on an error: retried unless the error says no retry can help. */
  private failedBefore(task: Task, err: unknown, agentSessionId: string | null): Ended {
    const failure = { error: errorMessage(err), agentSessionId, permanent: isPermanentError(err) };
    return {
      outcome: failedOutcome(task, failure, this.deps.config.retryBaseMs),
      exitCode: null,
      usage: null,
    };
  }
}
