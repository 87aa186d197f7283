/**
 * Runs one claimed task attempt: prepare the workspace, spawn the agent under the supervisor,
 * hand off the result, and record the outcome. The caller has already claimed the slot;
 * this class guarantees `finishAttempt` (which releases it) runs exactly once per attempt,
 * and only after the agent's whole process group is gone.
 */
import { mkdirSync } from 'node:fs';
import { buildAgentEnv } from '../agents/agent-env.js';
import {
  superviseAgent,
  type AgentProcess,
  type StopReason,
  type SupervisedResult,
} from '../agents/agent-supervisor.js';
import { agentBackend } from '../agents/registry.js';
import type { Session, Task, TaskMode } from '../domain.js';
import { OperationError, errorMessage } from '../errors.js';
import { forgeFor } from '../forges/forge.js';
import type { HomeContext } from '../home-context.js';
import { identify } from '../process-info.js';
import { decideAfterFailure, BACKOFF_CAP_MS } from '../retry-policy.js';
import { effectiveMode } from '../session-rules.js';
import type { AttemptOutcome } from '../store/store.js';
import { targetOfSession } from '../targets.js';
import { TranscriptWriter, transcriptPath } from '../transcripts.js';
import type { WorkspaceTarget } from '../workspaces/workspaces.js';

/** A failure that another attempt cannot fix (a missing agent, a bad setting). */
class PermanentFailure extends Error {}

interface ActiveRun {
  process: AgentProcess | null;
  stopRequested: StopReason | null;
}

export class TaskRunner {
  private readonly active = new Map<number, ActiveRun>();

  constructor(
    private readonly ctx: HomeContext,
    private readonly log: (line: string) => void,
    /** Called after the runner recorded an event mid-run, so sinks hear of it at once. */
    private readonly eventsWritten: () => void = () => undefined,
  ) {}

  get runningCount(): number {
    return this.active.size;
  }

  isRunning(taskId: number): boolean {
    return this.active.has(taskId);
  }

  /** Asks a run to end; it still finishes through the normal path. */
  stop(taskId: number, reason: StopReason): void {
    const run = this.active.get(taskId);
    if (run === undefined) return;
    run.stopRequested ??= reason;
    run.process?.stop(reason);
  }

  stopAll(reason: StopReason): void {
    for (const id of this.active.keys()) this.stop(id, reason);
  }

  /**
   * Runs one attempt of a claimed task to its end. Never throws. Everything after the claim
   * MUST reach `finishAttempt`, which releases the slot: a throw that skipped it would leave
   * the slot held until the next daemon's recovery.
   */
  async run(task: Task): Promise<Task> {
    const run: ActiveRun = { process: null, stopRequested: null };
    this.active.set(task.id, run);
    const { store } = this.ctx;
    let runId: number | null = null;
    let transcript: TranscriptWriter | null = null;
    let result: { outcome: AttemptOutcome; exitCode: number | null };
    try {
      transcript = new TranscriptWriter(
        transcriptPath(this.ctx.paths.transcriptsDir, task.id, task.attempts),
        this.ctx.scrubber(),
      );
      const session = task.issueRef === null ? null : store.getSession(task.issueRef);
      const mode: TaskMode = task.kind === 'pm' ? task.mode : effectiveMode(task.mode, session);
      runId = store.startRun(task.id, task.attempts, mode, transcript.path);
      result = await this.attempt(task, session, mode, run, runId, transcript);
    } catch (err) {
      transcript?.note(`error: ${errorMessage(err)}`);
      result = { outcome: this.failure(task, errorMessage(err), null, false), exitCode: null };
    }
    const { outcome, exitCode } = result;
    if (outcome.kind === 'failed') {
      transcript?.note(
        outcome.retryDelayMs === null
          ? 'giving up'
          : `retrying in ${Math.round(outcome.retryDelayMs / 1000)}s`,
      );
    }
    await transcript?.close();
    // Scrub what goes into events: they reach chats and terminals.
    const scrubbed = scrubOutcome(outcome, (text) => this.ctx.scrubber().scrub(text));
    const finished = store.finishAttempt(task.id, runId, exitCode, scrubbed);
    this.active.delete(task.id);
    this.log(
      `task #${task.id} attempt ${task.attempts} ended: ${scrubbed.kind}${exitCode === null ? '' : ` (exit ${exitCode})`}`,
    );
    return finished;
  }

  /** Prepares the workspace, runs the agent and judges the result. Failures come back as outcomes. */
  private async attempt(
    task: Task,
    session: Session | null,
    mode: TaskMode,
    run: ActiveRun,
    runId: number,
    transcript: TranscriptWriter,
  ): Promise<{ outcome: AttemptOutcome; exitCode: number | null }> {
    let agentSessionId: string | null = null;
    try {
      transcript.note(
        `task #${task.id} attempt ${task.attempts}/${task.maxAttempts} (${mode}) for ${task.issueRef ?? 'the PM agent'}`,
      );
      let cwd: string;
      let target: WorkspaceTarget | null = null;
      if (session !== null) {
        target = targetOfSession(this.ctx, session);
        const made = await this.ctx.workspaces.ensureWorktree(target, (line) =>
          transcript.note(line),
        );
        transcript.note(`worktree ${made}: ${target.worktreePath}`);
        cwd = target.worktreePath;
      } else {
        mkdirSync(this.ctx.paths.pmDir, { recursive: true });
        cwd = this.ctx.paths.pmDir;
      }
      if (run.stopRequested !== null) {
        return { outcome: this.stoppedOutcome(run.stopRequested, null), exitCode: null };
      }
      const result = await this.spawn(
        task,
        mode,
        cwd,
        session?.agentSessionId ?? null,
        target,
        run,
        runId,
        transcript,
      );
      agentSessionId = result.agentSessionId;
      return {
        outcome: await this.judge(task, result, target, transcript),
        exitCode: result.exitCode,
      };
    } catch (err) {
      transcript.note(`error: ${errorMessage(err)}`);
      const permanent = err instanceof PermanentFailure;
      return {
        outcome: this.failure(task, errorMessage(err), agentSessionId, permanent),
        exitCode: null,
      };
    }
  }

  private async spawn(
    task: Task,
    mode: TaskMode,
    cwd: string,
    agentSessionId: string | null,
    target: WorkspaceTarget | null,
    run: ActiveRun,
    runId: number,
    transcript: TranscriptWriter,
  ): Promise<SupervisedResult & { lastLine: string | null }> {
    const { config, store } = this.ctx;
    const backend = agentBackend(task.agent, { command: config.agentCommand });
    const envScope = task.kind === 'pm' ? 'pm-agent' : task.agent;
    const env = buildAgentEnv({
      base: this.ctx.env,
      withheldKeys: this.ctx.withheldKeys(),
      envFiles: this.ctx.envFiles.merged(envScope),
      task: {
        taskId: task.id,
        issueRef: task.issueRef,
        worktree: cwd,
        branch: target?.branch ?? null,
        mode,
        attempt: task.attempts,
        sessionKey: target?.workspaceKey ?? 'pm',
        agentSessionId,
        model: config.model ?? null,
      },
    });
    let invocation;
    try {
      invocation = backend.prepare({
        mode,
        worktree: cwd,
        prompt: task.message,
        agentSessionId,
        model: config.model ?? null,
        env,
      });
    } catch (err) {
      if (err instanceof OperationError) throw new PermanentFailure(err.message);
      throw err;
    }
    const scrubber = this.ctx.scrubber();
    let lastLine: string | null = null;
    const proc = superviseAgent({
      invocation,
      cwd,
      timeoutMs: config.taskTimeoutMs,
      stallMs: config.stallTimeoutMs,
      killGraceMs: config.killGraceMs,
      sessionIdFrom: (line) => backend.sessionIdFrom(line),
      onSpawn: (pid) => {
        // Durable before anything else happens: a crash from here on leaves a findable pid.
        store.recordAgentProcess(task.id, identify(pid));
        store.markRunSpawned(
          runId,
          task.id,
          pid,
          `#${task.id} started on ${task.issueRef ?? 'the PM agent'} (attempt ${task.attempts}/${task.maxAttempts})`,
        );
        this.eventsWritten();
      },
      onLine: (line) => {
        transcript.line(line);
        if (line.trim() !== '') lastLine = scrubber.scrub(line.trim());
      },
    });
    run.process = proc;
    if (run.stopRequested !== null) proc.stop(run.stopRequested);
    const result = await proc.done;
    if (result.agentSessionId !== null && task.issueRef !== null)
      store.setAgentSessionId(task.issueRef, result.agentSessionId);
    return { ...result, lastLine };
  }

  private async judge(
    task: Task,
    result: SupervisedResult & { lastLine: string | null },
    target: WorkspaceTarget | null,
    transcript: TranscriptWriter,
  ): Promise<AttemptOutcome> {
    const { config } = this.ctx;
    const sessionId = result.agentSessionId;
    if (result.stopReason === 'stopped' || result.stopReason === 'shutdown') {
      return this.stoppedOutcome(result.stopReason, sessionId);
    }
    if (result.stopReason === 'timeout') {
      return this.failure(
        task,
        `timed out after ${formatMinutes(config.taskTimeoutMs)} (KUGETSU_TASK_TIMEOUT_MINUTES)`,
        sessionId,
        false,
      );
    }
    if (result.stopReason === 'stall') {
      return this.failure(
        task,
        `stalled: no output for ${formatMinutes(config.stallTimeoutMs)} (KUGETSU_STALL_TIMEOUT_MINUTES)`,
        sessionId,
        false,
      );
    }
    if (result.spawnError !== null)
      return this.failure(task, `agent did not start: ${result.spawnError}`, sessionId, false);
    if (result.exitCode !== 0) {
      const how =
        result.exitCode === null
          ? `killed by ${result.signal ?? 'a signal'}`
          : `exit code ${result.exitCode}`;
      return this.failure(
        task,
        result.lastLine === null ? how : `${how}: ${truncate(result.lastLine, 200)}`,
        sessionId,
        false,
      );
    }
    if (target === null) {
      return {
        kind: 'completed',
        result: truncate(result.lastLine ?? 'done', 500),
        agentSessionId: sessionId,
      };
    }
    return {
      kind: 'completed',
      result: await this.handOff(target, transcript),
      agentSessionId: sessionId,
    };
  }

  /** Diffstat and hand-off; a failed push does not undo a successful run, it is reported. */
  private async handOff(target: WorkspaceTarget, transcript: TranscriptWriter): Promise<string> {
    const { workspaces } = this.ctx;
    const parts = [`branch ${target.branch}`];
    try {
      const status = await workspaces.status(target);
      parts.push(await workspaces.diffstat(target));
      if (status.dirty) parts.push('uncommitted changes left in the worktree');
      if (status.aheadOfBase > 0) {
        const handed = await forgeFor(target.server).handOff(target, workspaces);
        parts.push(handed.summary);
        if (handed.pullRequestUrl !== null) parts.push(handed.pullRequestUrl);
      }
    } catch (err) {
      parts.push(`hand-off failed: ${errorMessage(err)}`);
    }
    const summary = parts.join(' · ');
    transcript.note(`completed: ${summary}`);
    return summary;
  }

  private stoppedOutcome(reason: StopReason, agentSessionId: string | null): AttemptOutcome {
    return reason === 'shutdown'
      ? { kind: 'interrupted', agentSessionId }
      : { kind: 'cancelled', agentSessionId };
  }

  private failure(
    task: Task,
    error: string,
    agentSessionId: string | null,
    permanent: boolean,
  ): AttemptOutcome {
    const decision = permanent
      ? { retry: false as const }
      : decideAfterFailure(task.attempts, {
          maxAttempts: task.maxAttempts,
          baseMs: this.ctx.config.retryBaseMs,
          capMs: BACKOFF_CAP_MS,
        });
    return {
      kind: 'failed',
      error,
      agentSessionId,
      retryDelayMs: decision.retry ? decision.delayMs : null,
    };
  }
}

function scrubOutcome(outcome: AttemptOutcome, scrub: (text: string) => string): AttemptOutcome {
  if (outcome.kind === 'completed') return { ...outcome, result: scrub(outcome.result) };
  if (outcome.kind === 'failed') return { ...outcome, error: scrub(outcome.error) };
  return outcome;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function formatMinutes(ms: number): string {
  return ms >= 60_000 ? `${+(ms / 60_000).toFixed(2)} min` : `${+(ms / 1000).toFixed(1)} s`;
}
