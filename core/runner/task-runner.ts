/**
 * Runs one claimed task attempt: prepare the workspace, spawn the agent under the supervisor,
 * hand off the result, and record the outcome. The caller has already claimed the slot;
 * this class guarantees `finishAttempt` (which releases it) runs exactly once per attempt,
 * and only after the agent's whole process group is gone.
 */
import { mkdirSync } from 'node:fs';
import { delimiter } from 'node:path';
import {
  deleteBaseSessions,
  getBaseSession,
  getPmSession,
  getSessionTotals,
  setPmSession,
  setSessionTotals,
} from '../agent-sessions.js';
import { buildAgentEnv } from '../agents/agent-env.js';
import {
  WORKSPACE_ATTACHMENTS,
  attachmentNote,
  isImage,
  placeAttachments,
  type PlacedAttachment,
} from '../attachments.js';
import { isPermanent, type AgentReport, type FatalAgentError } from '../agents/agent-output.js';
import type { StopReason } from '../agents/agent-supervisor.js';
import { runAgent, type AgentRun, type AgentRunResult } from '../agents/agent-run.js';
import type { Approval } from '../approvals/approval.js';
import { approvalGate, type ApprovalGate } from '../approvals/gate.js';
import { policyFor } from '../approvals/policy.js';
import { devPrompt, pmPrompt } from '../agents/instructions.js';
import { writeKugetsuShim } from '../agents/kugetsu-shim.js';
import { agentBackend } from '../agents/registry.js';
import type { Session, Task, TaskMode, Usage } from '../domain.js';
import { OperationError, errorMessage } from '../errors.js';
import { forgeFor } from '../forges/forge.js';
import { ForgeError } from '../forges/forge-http.js';
import type { HomeContext } from '../home-context.js';
import { issueNumberOf } from '../issue-ref.js';
import { identify } from '../process-info.js';
import { runHook } from '../workflow/hooks.js';
import { TemplateError } from '../workflow/prompt-template.js';
import { WorkflowError, renderPrompt, type HookName, type Workflow } from '../workflow/workflow.js';
import { loadWorkflow, promptVariables } from './issue-prompt.js';
import { decideAfterFailure, BACKOFF_CAP_MS } from '../retry-policy.js';
import { effectiveMode } from '../session-rules.js';
import type { AttemptOutcome } from '../store/store.js';
import { targetOfSession } from '../targets.js';
import { TranscriptWriter, transcriptPath } from '../transcripts.js';
import { ZERO_USAGE, budgetTokens, formatTokens } from '../usage.js';
import { CredentialsError, type WorkspaceTarget } from '../workspaces/workspaces.js';

/** A failure that another attempt cannot fix (a missing agent, a bad setting). */
class PermanentFailure extends Error {}

interface RunResult extends AgentRunResult {
  report: AgentReport;
  /** Why the run was stopped for its budget. */
  overBudget: string | null;
  fatal: FatalAgentError | null;
  lastLine: string | null;
}

interface ActiveRun {
  process: AgentRun | null;
  stopRequested: StopReason | null;
  /** Ends a hook that runs when the stop comes. */
  abort: AbortController;
}

export class TaskRunner {
  private readonly active = new Map<number, ActiveRun>();

  constructor(
    private readonly ctx: HomeContext,
    private readonly log: (line: string) => void,
    /** Called after the runner recorded an event mid-run, so sinks hear of it at once. */
    private readonly eventsWritten: () => void = () => undefined,
    /** The built CLI's entry point, put on the PM agent's PATH as `kugetsu`; null: not offered. */
    private readonly kugetsuCli: string | null = null,
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
    run.abort.abort();
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
    const run: ActiveRun = { process: null, stopRequested: null, abort: new AbortController() };
    this.active.set(task.id, run);
    const store = this.ctx.legacy;
    let runId: number | null = null;
    let transcript: TranscriptWriter | null = null;
    let result: { outcome: AttemptOutcome; exitCode: number | null; usage: Usage | null };
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
      result = {
        outcome: this.failure(task, errorMessage(err), null, false),
        exitCode: null,
        usage: null,
      };
    }
    const { outcome, exitCode, usage } = result;
    if (outcome.kind === 'failed') {
      transcript?.note(
        `failed: ${outcome.error}; ${
          outcome.retryDelayMs === null
            ? 'giving up'
            : `retrying in ${Math.round(outcome.retryDelayMs / 1000)}s`
        }`,
      );
    }
    await transcript?.close();
    // Scrub what goes into events: they reach chats and terminals.
    const scrubbed = scrubOutcome(outcome, (text) => this.ctx.scrubber().scrub(text));
    const finished = store.finishAttempt(task.id, runId, exitCode, scrubbed, usage);
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
  ): Promise<{ outcome: AttemptOutcome; exitCode: number | null; usage: Usage | null }> {
    let agentSessionId: string | null = null;
    try {
      transcript.note(
        `task #${task.id} attempt ${task.attempts}/${task.maxAttempts} (${mode}) for ${task.issueRef ?? 'the PM agent'}`,
      );
      let cwd: string;
      let target: WorkspaceTarget | null = null;
      let workflow: Workflow | null = null;
      let issue: { prompt: string; title: string } | null = null;
      let placed: PlacedAttachment[] = [];
      if (session !== null) {
        target = await targetOfSession(this.ctx, session);
        const made = await this.ctx.workspaces.ensureWorktree(target, (line) =>
          transcript.note(line),
        );
        transcript.note(`worktree ${made}: ${target.worktreePath}`);
        cwd = target.worktreePath;
        workflow = await this.workflowOf(target, transcript);
        const hookEnv = this.taskEnv(task, cwd, target, mode, session.agentSessionId, null);
        if (made === 'created') {
          const created = await this.hook('after_create', workflow, cwd, hookEnv, run, transcript);
          if (created !== null) {
            // Made again, and the hook run again, by the next attempt.
            await this.ctx.workspaces.discardWorktree(target);
            throw new Error(created);
          }
        }
        placed = await this.placeAttachments(task, target, transcript);
        const before = await this.hook('before_run', workflow, cwd, hookEnv, run, transcript);
        if (before !== null) throw new Error(before);
        if (mode === 'start' || session.agentSessionId === null) {
          issue = await this.issuePrompt(task, target, workflow, transcript);
        }
      } else {
        mkdirSync(this.ctx.paths.pmDir, { recursive: true });
        cwd = this.ctx.paths.pmDir;
      }
      if (run.stopRequested !== null) {
        return {
          outcome: this.stoppedOutcome(run.stopRequested, null),
          exitCode: null,
          usage: null,
        };
      }
      let result: RunResult;
      try {
        result = await this.spawn(
          task,
          mode,
          cwd,
          session?.agentSessionId ?? null,
          target,
          issue?.prompt ?? null,
          placed,
          run,
          runId,
          transcript,
        );
      } finally {
        if (session !== null && target !== null) {
          const env = this.taskEnv(task, cwd, target, mode, session.agentSessionId, null);
          await this.hook('after_run', workflow, cwd, env, run, transcript);
        }
      }
      agentSessionId = result.report.sessionId;
      return {
        outcome: await this.judge(task, result, target, issue?.title ?? null, transcript),
        exitCode: result.exitCode,
        usage: result.report.usage,
      };
    } catch (err) {
      transcript.note(`error: ${errorMessage(err)}`);
      const permanent = err instanceof PermanentFailure || err instanceof CredentialsError;
      return {
        outcome: this.failure(task, errorMessage(err), agentSessionId, permanent),
        exitCode: null,
        usage: null,
      };
    }
  }

  private async spawn(
    task: Task,
    mode: TaskMode,
    cwd: string,
    agentSessionId: string | null,
    target: WorkspaceTarget | null,
    /** The issue's text and the user's message, for a new session on a forge. */
    issuePrompt: string | null,
    /** The task's files, already in the workspace. */
    attachments: readonly PlacedAttachment[],
    run: ActiveRun,
    runId: number,
    transcript: TranscriptWriter,
  ): Promise<RunResult> {
    const { config, legacy: store } = this.ctx;
    const backend = agentBackend(task.agent, config);
    const isPm = task.kind === 'pm';
    const model = task.model ?? config.model ?? null;
    const budget = this.budgetCheck(task);
    const overBefore = budget(ZERO_USAGE);
    if (overBefore !== null) throw new PermanentFailure(overBefore);

    const pm = isPm ? getPmSession(store) : null;
    const sessionId = isPm ? (pm?.agent === task.agent ? pm.sessionId : null) : agentSessionId;
    const runMode: TaskMode = isPm ? (sessionId === null ? 'start' : 'continue') : mode;
    const newSession = runMode === 'start' || sessionId === null;
    const base =
      newSession && backend.forksAcrossDirectories ? getBaseSession(store, task.agent) : null;
    const forkFrom = base?.sessionId ?? null;
    const message = (issuePrompt ?? task.message) + attachmentNote(attachments);
    const prompt = !backend.instructed
      ? message
      : isPm
        ? pmPrompt({ message, newSession })
        : devPrompt({
            message,
            issueRef: task.issueRef ?? '',
            branch: target?.branch ?? '',
            newSession,
            forked: forkFrom !== null,
          });
    const env = this.taskEnv(task, cwd, target, runMode, sessionId, model);
    // The PM agent runs kugetsu; a command agent asks through `kugetsu ask`, its only way to.
    if (isPm || task.agent === 'command') Object.assign(env, this.kugetsuOnPath(env));
    let invocation;
    try {
      invocation = backend.prepare({
        mode: newSession ? 'start' : runMode,
        worktree: cwd,
        prompt,
        agentSessionId: newSession ? null : sessionId,
        forkFrom,
        model,
        env,
        writableDirs: isPm
          ? [this.ctx.paths.root]
          : target === null
            ? []
            : [this.ctx.workspaces.mirrorPath(target.server, target.repoPath)],
        allowedCommands: isPm ? ['kugetsu'] : [],
        images: attachments.filter((a) => isImage(a.mime)).map((a) => a.workspacePath),
        policy: policyFor(config.approvalPolicy, task.agent),
        permissionServer: this.permissionServer(task),
      });
    } catch (err) {
      if (err instanceof OperationError) throw new PermanentFailure(err.message);
      throw err;
    }
    if (forkFrom !== null) transcript.note(`forking the base session ${forkFrom}`);
    const totalsOf = newSession ? forkFrom : sessionId;
    // The last line of either stream: what a failed run's message quotes.
    let lastLine: string | null = null;
    const parser = backend.parser(
      totalsOf === null ? null : getSessionTotals(store, task.agent, totalsOf),
    );
    let knownSession: string | null = null;
    let overBudget: string | null = null;
    let fatal: FatalAgentError | null = null;
    const gate = this.gateFor(task, transcript);
    // The stall question out now, if any: the agent speaking again answers it.
    let stallQuestion: Approval | null = null;
    const proc = runAgent({
      invocation,
      cwd,
      timeoutMs: config.taskTimeoutMs,
      stallMs: config.stallTimeoutMs,
      killGraceMs: config.killGraceMs,
      ask: (request, signal) => gate.ask(request, { signal }),
      note: (line) => transcript.note(line),
      isWaiting: () => store.approvals.hasOpen(task.id),
      onStall: () => {
        void this.askAboutStall(gate, lastLine, (opened) => (stallQuestion = opened)).then(
          (next) => {
            stallQuestion = null;
            if (typeof next === 'number') proc.extendStall(next);
            else proc.stop(next);
          },
        );
      },
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
      onLine: (line, stream) => {
        if (stallQuestion !== null) {
          store.approvals.resolve(stallQuestion.id, {
            decision: 'allow',
            scope: 'once',
            by: { channel: 'kugetsu', who: 'the agent, which spoke again' },
          });
          stallQuestion = null;
          this.eventsWritten();
        }
        if (stream === 'stderr') {
          const plain = stripAnsi(line);
          transcript.line(plain);
          if (plain.trim() !== '') lastLine = plain.trim();
          const diagnosed = parser.stderr?.(plain) ?? null;
          if (diagnosed !== null) {
            fatal ??= diagnosed;
            proc.stop('fatal');
          }
          return;
        }
        const reading = parser.line(line);
        for (const shown of reading.display) {
          transcript.line(shown);
          if (shown.trim() !== '') lastLine = shown.trim();
        }
        const id = parser.report().sessionId;
        if (id !== null && id !== knownSession) {
          knownSession = id;
          // Kept at once: a crash mid-run must not lose the session a resume continues.
          this.recordSession(task, id);
        }
        if (reading.usage !== undefined) {
          store.recordRunUsage(runId, reading.usage);
          overBudget ??= budget(reading.usage);
          if (overBudget !== null) proc.stop('budget');
        }
        if (reading.fatal !== undefined) {
          fatal ??= reading.fatal;
          proc.stop('fatal');
        }
      },
    });
    run.process = proc;
    if (run.stopRequested !== null) proc.stop(run.stopRequested);
    const result = await proc.done;
    const report = parser.report();
    if (report.sessionId !== null && report.sessionTotals !== null) {
      setSessionTotals(store, task.agent, report.sessionId, report.sessionTotals);
    }
    return { ...result, report, overBudget, fatal, lastLine };
  }

  /**
   * Copies the task's files into `.kugetsu/attachments/<task id>/` of its worktree, which git is
   * told to ignore first (the leftovers commit and `destroy`'s dirty check must not see them).
   */
  private async placeAttachments(
    task: Task,
    target: WorkspaceTarget,
    transcript: TranscriptWriter,
  ): Promise<PlacedAttachment[]> {
    const attachments = this.ctx.legacy.taskAttachments(task.id);
    if (attachments.length === 0) return [];
    await this.ctx.workspaces.ignoreInWorktrees(target, `/${WORKSPACE_ATTACHMENTS}/`);
    let placed: PlacedAttachment[];
    try {
      placed = placeAttachments(target.worktreePath, task.id, attachments);
    } catch (err) {
      // A workspace that refuses them (a committed symbolic link) refuses them every time.
      if (err instanceof OperationError) throw new PermanentFailure(err.message);
      throw err;
    }
    transcript.note(
      `attachments in ${WORKSPACE_ATTACHMENTS}/${task.id}/: ${placed.map((a) => a.name).join(', ') || 'none left'}`,
    );
    return placed;
  }

  private gateFor(task: Task, transcript: TranscriptWriter): ApprovalGate {
    return approvalGate({
      store: this.ctx.legacy,
      taskId: task.id,
      agent: task.agent,
      policy: this.ctx.config.approvalPolicy,
      timeoutMs: this.ctx.config.approvalTimeoutMs,
      announce: this.eventsWritten,
      scrub: (text) => this.ctx.scrubber().scrub(text),
      note: (line) => transcript.note(line),
    });
  }

  /**
   * A stalled agent is asked about before it is stopped. Resolves with how long to wait before
   * the next stall check; `stopped` when a person chose Stop (the task ends, it is not retried);
   * `stall` when nobody answered (a stalled attempt, as without the question).
   */
  private async askAboutStall(
    gate: ApprovalGate,
    lastLine: string | null,
    opened: (approval: Approval) => void,
  ): Promise<number | 'stopped' | 'stall'> {
    const { config } = this.ctx;
    const answer = await gate.ask(
      {
        kind: 'stall',
        tool: 'kugetsu',
        category: 'other',
        subject: `has been silent for ${formatMinutes(config.stallTimeoutMs)}`,
        reason: lastLine === null ? null : `its last line: ${truncate(lastLine, 300)}`,
        options: [],
      },
      {
        timeoutMs: config.stallGraceMs,
        timeoutMessage: `no answer within ${formatMinutes(config.stallGraceMs)} (KUGETSU_STALL_GRACE_MINUTES): stopped`,
        onOpened: opened,
      },
    );
    if (answer.decision !== 'allow') return answer.by.channel === 'timeout' ? 'stall' : 'stopped';
    // The agent resumed by itself: the ordinary stall limit applies again.
    return answer.by.channel === 'kugetsu' ? config.stallTimeoutMs : config.stallExtendMs;
  }

  /** kugetsu's MCP permission server for claude, run from the built CLI against this home. */
  private permissionServer(
    task: Task,
  ): { command: string; args: string[]; env: Record<string, string> } | null {
    if (this.kugetsuCli === null) return null;
    return {
      command: process.execPath,
      args: [this.kugetsuCli, 'mcp', 'permissions'],
      env: { KUGETSU_HOME: this.ctx.paths.root, KUGETSU_TASK_ID: String(task.id) },
    };
  }

  /** The environment of a task's agent (DESIGN.md §6); a dev task's hooks get it too. */
  private taskEnv(
    task: Task,
    cwd: string,
    target: WorkspaceTarget | null,
    mode: TaskMode,
    agentSessionId: string | null,
    model: string | null,
  ): Record<string, string> {
    const { envFiles } = this.ctx;
    return buildAgentEnv({
      base: this.ctx.env,
      withheldKeys: this.ctx.withheldKeys(),
      // The PM agent is an agent CLI too: its backend's file (credentials) under pm-agent.env.
      envFiles:
        task.kind === 'pm'
          ? { ...envFiles.merged(task.agent), ...envFiles.merged('pm-agent') }
          : envFiles.merged(task.agent),
      task: {
        taskId: task.id,
        issueRef: task.issueRef,
        worktree: cwd,
        branch: target?.branch ?? null,
        mode,
        attempt: task.attempts,
        sessionKey: target?.workspaceKey ?? 'pm',
        agentSessionId,
        model,
      },
    });
  }

  /** The repository's WORKFLOW.md; a broken one fails the task until it is fixed. */
  private async workflowOf(
    target: WorkspaceTarget,
    transcript: TranscriptWriter,
  ): Promise<Workflow | null> {
    try {
      const workflow = await loadWorkflow(this.ctx.workspaces, target);
      if (workflow !== null) transcript.note(`using ${workflow.source} from the default branch`);
      return workflow;
    } catch (err) {
      if (err instanceof WorkflowError || err instanceof TemplateError)
        throw new PermanentFailure(err.message);
      throw err;
    }
  }

  /** Runs one of the workflow's hooks, if it has it. Returns why it failed, or null. */
  private async hook(
    name: HookName,
    workflow: Workflow | null,
    cwd: string,
    env: Record<string, string>,
    run: ActiveRun,
    transcript: TranscriptWriter,
  ): Promise<string | null> {
    const script = workflow?.hooks.scripts[name];
    if (workflow === null || script === undefined) return null;
    transcript.note(`running the ${name} hook`);
    const result = await runHook(name, script, {
      cwd,
      env,
      timeoutMs: workflow.hooks.timeoutMs,
      killGraceMs: this.ctx.config.killGraceMs,
      onLine: (line) => transcript.line(line),
      signal: run.abort.signal,
    });
    if (result.ok) return null;
    transcript.note(result.summary);
    // after_run and before_remove only report: the run's outcome is already decided.
    return name === 'after_run' || name === 'before_remove' ? null : result.summary;
  }

  /**
   * The first prompt of a session on a forge issue: the issue's text through the template, and
   * the title, which the hand-off then need not fetch again.
   */
  private async issuePrompt(
    task: Task,
    target: WorkspaceTarget,
    workflow: Workflow | null,
    transcript: TranscriptWriter,
  ): Promise<{ prompt: string; title: string } | null> {
    if (target.server.kind === 'git' || task.issueRef === null) return null;
    let issue;
    try {
      issue = await forgeFor(target.server, this.ctx.forgeToken(target.server)).issueContext(
        target.repoPath,
        issueNumberOf(task.issueRef),
      );
    } catch (err) {
      // A refused token or a missing issue stays so until the user acts: no retry storm.
      if (err instanceof ForgeError && err.status !== null && [401, 403, 404].includes(err.status))
        throw new PermanentFailure(err.message);
      throw err;
    }
    if (issue === null) return null;
    transcript.note(
      `read issue #${issue.number} (${issue.state}, ${issue.comments.length} comment(s)) from ${target.server.name}`,
    );
    const vars = promptVariables({
      issueRef: task.issueRef,
      issue,
      message: task.message,
      branch: target.branch,
      repoPath: target.repoPath,
      defaultBranch: await this.ctx.workspaces.baseBranch(target),
      attempt: task.attempts,
    });
    try {
      return { prompt: renderPrompt(workflow, vars), title: issue.title };
    } catch (err) {
      if (err instanceof TemplateError) throw new PermanentFailure(err.message);
      throw err;
    }
  }

  /**
   * The agent lost a session kugetsu holds (its data wiped, or another CODEX_HOME): forget it, so
   * the next attempt starts a new one instead of failing the same way. Returns the reason.
   */
  private forgetLostSession(task: Task, lostId: string): string {
    const store = this.ctx.legacy;
    if (getBaseSession(store, task.agent)?.sessionId === lostId) {
      deleteBaseSessions(store, [task.agent]);
      return `${task.agent} has no record of the base session ${lostId}: kugetsu forgot it (\`kugetsu doctor --fix\` makes a new one); the next attempt starts without it`;
    }
    if (task.kind === 'pm') setPmSession(store, task.agent, null);
    else if (task.issueRef !== null) store.clearAgentSessionId(task.issueRef);
    return `${task.agent} has no record of session ${lostId}: the next attempt starts a new session`;
  }

  private recordSession(task: Task, sessionId: string): void {
    if (task.kind === 'pm') setPmSession(this.ctx.legacy, task.agent, sessionId);
    else if (task.issueRef !== null) this.ctx.legacy.setAgentSessionId(task.issueRef, sessionId);
  }

  /**
   * Returns a check of a run's usage so far against the budgets: the reason to stop, or null.
   * The day's total comes from the store, so runs of other tasks count too.
   */
  private budgetCheck(task: Task): (runUsage: Usage) => string | null {
    const { config, legacy: store } = this.ctx;
    const before = budgetTokens(task.usage ?? ZERO_USAGE);
    const dayStart = startOfUtcDay(Date.now());
    return (runUsage) => {
      const perTask = config.taskTokenBudget;
      if (perTask !== null && before + budgetTokens(runUsage) >= perTask) {
        return `budget: the task used ${formatTokens(before + budgetTokens(runUsage))} tokens of KUGETSU_TASK_BUDGET=${perTask}`;
      }
      const daily = config.dailyTokenBudget;
      if (daily !== null) {
        const today = store.budgetTokensSince(dayStart);
        if (today >= daily) {
          return `budget: ${formatTokens(today)} tokens used today (UTC) of KUGETSU_DAILY_BUDGET=${daily}`;
        }
      }
      return null;
    };
  }

  /** `kugetsu` on the agent's PATH, against this home. */
  private kugetsuOnPath(env: Record<string, string>): Record<string, string> {
    const extra: Record<string, string> = { KUGETSU_HOME: this.ctx.paths.root };
    if (this.kugetsuCli !== null) {
      const binDir = writeKugetsuShim(this.ctx.paths.root, this.kugetsuCli);
      extra['PATH'] = [binDir, env['PATH'] ?? ''].filter((p) => p !== '').join(delimiter);
    }
    return extra;
  }

  private async judge(
    task: Task,
    result: RunResult,
    target: WorkspaceTarget | null,
    /** Known when this run read the issue; else the hand-off reads it. */
    issueTitle: string | null,
    transcript: TranscriptWriter,
  ): Promise<AttemptOutcome> {
    const { config } = this.ctx;
    const { report } = result;
    const sessionId = report.sessionId;
    if (result.stopReason === 'stopped' || result.stopReason === 'shutdown') {
      return this.stoppedOutcome(result.stopReason, sessionId);
    }
    if (result.stopReason === 'budget') {
      return this.failure(task, result.overBudget ?? 'budget', sessionId, true);
    }
    const fatal = result.fatal ?? report.fatal;
    if (fatal?.kind === 'session_lost') {
      // Not the id this run announced either: a resume that found nothing may announce a new,
      // empty one.
      return this.failure(task, this.forgetLostSession(task, fatal.sessionId), null, false);
    }
    if (result.stopReason === 'fatal' || fatal !== null) {
      return this.failure(
        task,
        fatal?.message ?? 'agent error',
        sessionId,
        fatal === null || isPermanent(fatal),
      );
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
    if (result.stopReason === 'finished' && result.driverError !== null) {
      return this.failure(task, truncate(result.driverError, 500), sessionId, false);
    }
    // A driver that ended the conversation ended the process too: its exit code says nothing.
    if (result.stopReason !== 'finished' && result.exitCode !== 0) {
      const how =
        result.exitCode === null
          ? `killed by ${result.signal ?? 'a signal'}`
          : `exit code ${result.exitCode}`;
      const said = report.error ?? result.lastLine;
      return this.failure(
        task,
        said === null ? how : `${how}: ${truncate(said, 200)}`,
        sessionId,
        false,
      );
    }
    if (report.question !== null) {
      const question =
        report.finalText === null ? report.question : `${report.question}\n${report.finalText}`;
      transcript.note(`needs input: ${report.question}`);
      return { kind: 'needs_input', question: truncate(question, 2000), agentSessionId: sessionId };
    }
    if (target === null) {
      return {
        kind: 'completed',
        result: truncate(report.finalText ?? 'done', 3000),
        agentSessionId: sessionId,
      };
    }
    // Agents that commit may still leave work behind; it is part of the run's result either way.
    await this.commitLeftovers(task, target, report.finalText, transcript);
    const handedOff = await this.handOff(task, target, report.finalText, issueTitle, transcript);
    const answer =
      report.finalText === null || task.agent === 'command'
        ? ''
        : `\n${truncate(report.finalText, 600)}`;
    return { kind: 'completed', result: `${handedOff}${answer}`, agentSessionId: sessionId };
  }

  private async commitLeftovers(
    task: Task,
    target: WorkspaceTarget,
    answer: string | null,
    transcript: TranscriptWriter,
  ): Promise<void> {
    const { workspaces } = this.ctx;
    if (!(await workspaces.status(target)).dirty) return;
    const subject = truncate(
      (answer ?? '').split('\n')[0]?.trim() || `work on ${target.branch}`,
      72,
    );
    try {
      await workspaces.commitAll(
        target,
        `${subject}\n\nCommitted by kugetsu for task #${task.id} (${task.agent}).`,
      );
      transcript.note(`committed the agent's changes: ${subject}`);
    } catch (err) {
      transcript.note(`could not commit the agent's changes: ${errorMessage(err)}`);
    }
  }

  /** Diffstat and hand-off; a failed push does not undo a successful run, it is reported. */
  private async handOff(
    task: Task,
    target: WorkspaceTarget,
    answer: string | null,
    issueTitle: string | null,
    transcript: TranscriptWriter,
  ): Promise<string> {
    const { workspaces } = this.ctx;
    const issueRef = task.issueRef ?? '';
    const parts = [`branch ${target.branch}`];
    try {
      const status = await workspaces.status(target);
      const diffstat = await workspaces.diffstat(target);
      parts.push(diffstat);
      if (status.dirty) parts.push('uncommitted changes left in the worktree');
      if (status.aheadOfBase > 0) {
        transcript.note(`handing off ${target.branch} to server ${target.server.name}`);
        const handed = await forgeFor(target.server, this.ctx.forgeToken(target.server)).handOff(
          target,
          workspaces,
          {
            taskId: task.id,
            issueRef,
            issueNumber: issueNumberOf(issueRef),
            issueTitle,
            branch: target.branch,
            diffstat,
            answer: task.agent === 'command' ? null : answer,
          },
        );
        parts.push(handed.summary);
        if (handed.pullRequest !== null) {
          this.ctx.legacy.setSessionPullRequest(issueRef, handed.pullRequest);
          parts.push(handed.pullRequest.url);
        }
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
  if (outcome.kind === 'needs_input') return { ...outcome, question: scrub(outcome.question) };
  return outcome;
}

// The CLIs colour their stderr even without a terminal; transcripts are plain text.
// eslint-disable-next-line no-control-regex -- an ANSI escape starts with a control character
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

function startOfUtcDay(now: number): number {
  return now - (now % 86_400_000);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function formatMinutes(ms: number): string {
  return ms >= 60_000 ? `${+(ms / 60_000).toFixed(2)} min` : `${+(ms / 1000).toFixed(1)} s`;
}
