/**
 * Runs the task's agent under the supervisor and gathers the facts the verdict judges: the
 * session it announced (kept at once), live usage against the budgets, fatal errors, its last
 * line. What the agent's callbacks write goes through one queue, in order, and is durable
 * before the step returns.
 */
import type { FatalAgentError } from '../agents/agent-output.js';
import { runAgent } from '../agents/agent-run.js';
import { agentBackend } from '../agents/registry.js';
import { isImage } from '../attachments.js';
import type { Approval } from '../approvals/approval.js';
import { policyFor } from '../approvals/policy.js';
import type { TaskMode } from '../domain.js';
import { asPermanent, errorMessage } from '../errors.js';
import { identify } from '../process-info.js';
import type { AgentRunFacts } from './attempt-verdict.js';
import { dailyBudgetExceeded, startOfUtcDay, taskBudgetExceeded } from './budget-check.js';
import { agentPrompt } from './render-prompt.js';
import type { AttemptStart, IssuePrompt, StepDeps, Workspace } from './run-steps.js';
import { askAboutStall, runGate } from './stall-question.js';
import { kugetsuOnPath, taskEnv } from './task-env.js';
import { WriteQueue } from './write-queue.js';

export async function runAgentStep(
  deps: StepDeps,
  attempt: AttemptStart,
  workspace: Workspace,
  issuePrompt: IssuePrompt | null,
): Promise<AgentRunFacts> {
  const { ctx, ledger } = deps;
  const { config } = ctx;
  const { task, runId, transcript, control } = attempt;
  const { cwd, target } = workspace;
  const backend = agentBackend(task.agent, config);
  const isPm = task.kind === 'pm';
  const model = task.model ?? config.model ?? null;
  const pm = isPm ? await ledger.pmSession() : null;
  const sessionId = isPm
    ? pm?.agent === task.agent
      ? pm.sessionId
      : null
    : (workspace.session?.agentSessionId ?? null);
  const runMode: TaskMode = isPm ? (sessionId === null ? 'start' : 'continue') : attempt.mode;
  const newSession = runMode === 'start' || sessionId === null;
  const base =
    newSession && backend.forksAcrossDirectories ? await ledger.baseSession(task.agent) : null;
  const forkFrom = base?.sessionId ?? null;
  const prompt = agentPrompt({
    task,
    issuePrompt: issuePrompt?.prompt ?? null,
    attachments: workspace.attachments,
    instructed: backend.instructed,
    newSession,
    branch: target?.branch ?? '',
    forked: forkFrom !== null,
  });
  const env = taskEnv(ctx, task, workspace, runMode, sessionId, model);
  // The PM agent runs kugetsu; a command agent asks through `kugetsu ask`, its only way to.
  if (isPm || task.agent === 'command')
    Object.assign(env, kugetsuOnPath(ctx.paths.root, deps.kugetsuCli, env));
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
        ? [ctx.paths.root]
        : target === null
          ? []
          : [ctx.workspaces.mirrorPath(target.server, target.repoPath)],
      allowedCommands: isPm ? ['kugetsu'] : [],
      images: workspace.attachments.filter((a) => isImage(a.mime)).map((a) => a.workspacePath),
      policy: policyFor(config.approvalPolicy, task.agent),
      permissionServer: permissionServer(deps, task.id),
    });
  } catch (err) {
    // What `prepare` refuses is a setting: another attempt refuses it too.
    throw asPermanent(err);
  }
  if (forkFrom !== null) transcript.note(`forking the base session ${forkFrom}`);
  const totalsOf = newSession ? forkFrom : sessionId;
  const parser = backend.parser(
    totalsOf === null ? null : await ledger.sessionTotals(task.agent, totalsOf),
  );
  const writes = new WriteQueue();
  const dayStart = startOfUtcDay(Date.now());
  let lastLine: string | null = null;
  let knownSession: string | null = null;
  let overBudget: string | null = null;
  let fatal: FatalAgentError | null = null;
  const gate = runGate(deps, attempt);
  // The stall question out now, if any: the agent speaking again answers it.
  let stallQuestion: Approval | null = null;
  // The supervisor asks synchronously; the answer it gets is the last one read.
  let waiting = false;
  let readingWaiting = false;
  const isWaiting = (): boolean => {
    if (!readingWaiting) {
      readingWaiting = true;
      void ledger.approvals
        .hasOpen(task.id)
        .then((open) => (waiting = open))
        .catch(() => undefined)
        .finally(() => (readingWaiting = false));
    }
    return waiting;
  };
  const stopForBudget = (reason: string | null): void => {
    overBudget ??= reason;
    if (overBudget !== null) proc.stop('budget');
  };
  const proc = runAgent({
    invocation,
    cwd,
    timeoutMs: config.taskTimeoutMs,
    stallMs: config.stallTimeoutMs,
    killGraceMs: config.killGraceMs,
    ask: (request, signal) => gate.ask(request, { signal }),
    note: (line) => transcript.note(line),
    isWaiting,
    onStall: () => {
      void (async () => {
        // An approval opened since the last look: the agent waits, it has not stalled.
        const next = (await ledger.approvals.hasOpen(task.id))
          ? config.stallTimeoutMs
          : await askAboutStall(deps, gate, lastLine, (opened) => (stallQuestion = opened));
        stallQuestion = null;
        if (typeof next === 'number') proc.extendStall(next);
        else proc.stop(next);
      })().catch((err: unknown) => {
        transcript.note(`the stall question failed: ${errorMessage(err)}`);
        proc.stop('stall');
      });
    },
    onSpawn: (pid) => {
      // Durable before anything else the run writes: a crash from here on leaves a findable pid.
      writes.push(() => ledger.recordAgentProcess(task.id, identify(pid)));
      writes.push(async () => {
        await ledger.markSpawned(runId, task.id, pid);
        deps.eventsWritten();
      });
    },
    onLine: (line, stream) => {
      if (stallQuestion !== null) {
        const { id } = stallQuestion;
        stallQuestion = null;
        writes.push(async () => {
          await ledger.approvals.resolve(id, {
            decision: 'allow',
            scope: 'once',
            by: { channel: 'kugetsu', who: 'the agent, which spoke again' },
          });
          deps.eventsWritten();
        });
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
        writes.push(() =>
          isPm
            ? ledger.setPmSession(task.agent, id)
            : task.issueRef === null
              ? Promise.resolve()
              : ledger.setAgentSessionId(task.issueRef, id),
        );
      }
      const usage = reading.usage;
      if (usage !== undefined) {
        stopForBudget(taskBudgetExceeded(config, task.usage, usage));
        writes.push(async () => {
          await ledger.recordUsage(runId, usage);
          // The day's total includes this run's usage, just recorded, and other tasks' runs.
          if (overBudget === null && config.dailyTokenBudget !== null)
            stopForBudget(dailyBudgetExceeded(config, await ledger.budgetTokensSince(dayStart)));
        });
      }
      if (reading.fatal !== undefined) {
        fatal ??= reading.fatal;
        proc.stop('fatal');
      }
    },
  });
  control.process = proc;
  if (control.stopRequested !== null) proc.stop(control.stopRequested);
  const result = await proc.done;
  await writes.drained();
  const report = parser.report();
  if (report.sessionId !== null && report.sessionTotals !== null)
    await ledger.setSessionTotals(task.agent, report.sessionId, report.sessionTotals);
  // A budget check that settled after the agent's last line stops nothing, but still counts.
  const stopReason = result.stopReason ?? (overBudget === null ? null : 'budget');
  return { ...result, stopReason, report, overBudget, fatal, lastLine };
}

/** kugetsu's MCP permission server for claude, run from the built CLI against this home. */
function permissionServer(
  { ctx, kugetsuCli }: StepDeps,
  taskId: number,
): { command: string; args: string[]; env: Record<string, string> } | null {
  if (kugetsuCli === null) return null;
  return {
    command: process.execPath,
    args: [kugetsuCli, 'mcp', 'permissions'],
    env: { KUGETSU_HOME: ctx.paths.root, KUGETSU_TASK_ID: String(taskId) },
  };
}

// The CLIs colour their stderr even without a terminal; transcripts are plain text.
// eslint-disable-next-line no-control-regex -- an ANSI escape starts with a control character
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
