/**
 * What an agent run's facts (how it ended, what its output said) mean for the attempt. Pure:
 * the runner acts on the verdict — forgets a lost session, hands a success off — and turns it
 * into the outcome the store settles.
 */
import { isPermanent, type AgentReport, type FatalAgentError } from '../agents/agent-output.js';
import type { AgentRunResult } from '../agents/agent-run.js';
import type { StopReason } from '../agents/agent-supervisor.js';
import type { AgentName, Task } from '../domain.js';
import { BACKOFF_CAP_MS, decideAfterFailure } from '../retry-policy.js';
import type { AttemptOutcome } from '../store/records.js';

/** Everything known about a finished agent run. */
export interface AgentRunFacts extends AgentRunResult {
  report: AgentReport;
  /** Why the run was stopped for its budget. */
  overBudget: string | null;
  /** A fatal error read from stderr (stdout's is in the report). */
  fatal: FatalAgentError | null;
  /** The last line of either stream: what a failed run's message quotes. */
  lastLine: string | null;
}

export interface VerdictLimits {
  taskTimeoutMs: number;
  stallTimeoutMs: number;
}

/** A run kugetsu stopped: by a person (cancelled), or by its own shutdown (interrupted). */
export type StoppedOutcome = Extract<AttemptOutcome, { kind: 'cancelled' | 'interrupted' }>;

export type AttemptVerdict =
  | StoppedOutcome
  | Extract<AttemptOutcome, { kind: 'needs_input' }>
  | { kind: 'failed'; error: string; agentSessionId: string | null; permanent: boolean }
  /** The agent has no record of a session kugetsu holds: it must be forgotten. */
  | { kind: 'session_lost'; lostSessionId: string }
  /** Hand-off comes next, for a run on a session's worktree. */
  | { kind: 'succeeded'; finalText: string | null; agentSessionId: string | null };

export function judgeRun(run: AgentRunFacts, limits: VerdictLimits): AttemptVerdict {
  const { report } = run;
  const agentSessionId = report.sessionId;
  const failed = (error: string, permanent = false): AttemptVerdict => ({
    kind: 'failed',
    error,
    agentSessionId,
    permanent,
  });
  if (run.stopReason === 'stopped' || run.stopReason === 'shutdown')
    return stoppedVerdict(run.stopReason, agentSessionId);
  if (run.stopReason === 'budget') return failed(run.overBudget ?? 'budget', true);
  const fatal = run.fatal ?? report.fatal;
  // Not the id this run announced either: a resume that found nothing may announce a new one.
  if (fatal?.kind === 'session_lost')
    return { kind: 'session_lost', lostSessionId: fatal.sessionId };
  if (run.stopReason === 'fatal' || fatal !== null)
    return failed(fatal?.message ?? 'agent error', fatal === null || isPermanent(fatal));
  if (run.stopReason === 'timeout')
    return failed(
      `timed out after ${formatMinutes(limits.taskTimeoutMs)} (KUGETSU_TASK_TIMEOUT_MINUTES)`,
    );
  if (run.stopReason === 'stall')
    return failed(
      `stalled: no output for ${formatMinutes(limits.stallTimeoutMs)} (KUGETSU_STALL_TIMEOUT_MINUTES)`,
    );
  if (run.spawnError !== null) return failed(`agent did not start: ${run.spawnError}`);
  if (run.stopReason === 'finished' && run.driverError !== null)
    return failed(truncate(run.driverError, 500));
  // A driver that ended the conversation ended the process too: its exit code says nothing.
  if (run.stopReason !== 'finished' && run.exitCode !== 0) {
    const how =
      run.exitCode === null ? `killed by ${run.signal ?? 'a signal'}` : `exit code ${run.exitCode}`;
    const said = report.error ?? run.lastLine;
    return failed(said === null ? how : `${how}: ${truncate(said, 200)}`);
  }
  if (report.question !== null) {
    const question =
      report.finalText === null ? report.question : `${report.question}\n${report.finalText}`;
    return { kind: 'needs_input', question: truncate(question, 2000), agentSessionId };
  }
  return { kind: 'succeeded', finalText: report.finalText, agentSessionId };
}

export function stoppedVerdict(reason: StopReason, agentSessionId: string | null): StoppedOutcome {
  return reason === 'shutdown'
    ? { kind: 'interrupted', agentSessionId }
    : { kind: 'cancelled', agentSessionId };
}

/** What the user reads about a lost session, once the ledger has forgotten it. */
export function lostSessionMessage(agent: AgentName, lostId: string, wasBase: boolean): string {
  return wasBase
    ? `${agent} has no record of the base session ${lostId}: kugetsu forgot it (\`kugetsu doctor --fix\` makes a new one); the next attempt starts without it`
    : `${agent} has no record of session ${lostId}: the next attempt starts a new session`;
}

/** A failed attempt, with the delay before the next one when another follows. */
export function failedOutcome(
  task: Pick<Task, 'attempts' | 'maxAttempts'>,
  failure: { error: string; agentSessionId: string | null; permanent: boolean },
  retryBaseMs: number,
): AttemptOutcome {
  const decision = failure.permanent
    ? { retry: false as const }
    : decideAfterFailure(task.attempts, {
        maxAttempts: task.maxAttempts,
        baseMs: retryBaseMs,
        capMs: BACKOFF_CAP_MS,
      });
  return {
    kind: 'failed',
    error: failure.error,
    agentSessionId: failure.agentSessionId,
    retryDelayMs: decision.retry ? decision.delayMs : null,
  };
}

/**
 * A completed attempt's result: the agent's answer alone without a workspace; else the hand-off's
 * summary and the start of the answer (a command agent's output is no answer).
 */
export function completedResult(
  finalText: string | null,
  agent: AgentName,
  handOffSummary: string | null,
): string {
  if (handOffSummary === null) return truncate(finalText ?? 'done', 3000);
  const answer = finalText === null || agent === 'command' ? '' : `\n${truncate(finalText, 600)}`;
  return `${handOffSummary}${answer}`;
}

/** The transcript's last word on a failed attempt. */
export function failureNote(outcome: Extract<AttemptOutcome, { kind: 'failed' }>): string {
  const next =
    outcome.retryDelayMs === null
      ? 'giving up'
      : `retrying in ${Math.round(outcome.retryDelayMs / 1000)}s`;
  return `failed: ${outcome.error}; ${next}`;
}

/** The outcome with its texts scrubbed: events reach chats and terminals. */
export function scrubOutcome(
  outcome: AttemptOutcome,
  scrub: (text: string) => string,
): AttemptOutcome {
  if (outcome.kind === 'completed') return { ...outcome, result: scrub(outcome.result) };
  if (outcome.kind === 'failed') return { ...outcome, error: scrub(outcome.error) };
  if (outcome.kind === 'needs_input') return { ...outcome, question: scrub(outcome.question) };
  return outcome;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function formatMinutes(ms: number): string {
  return ms >= 60_000 ? `${+(ms / 60_000).toFixed(2)} min` : `${+(ms / 1000).toFixed(1)} s`;
}
