/** Queueing work: what `start`, `continue`, `resume`, `stop`, `delegate` and `queue` do. */
import { assertAgentAvailable } from '../agents/availability.js';
import { wakeDaemon } from '../wake-channel.js';
import { MAX_ATTACHMENTS, uniqueName } from '../attachments.js';
import type { AgentName, Session, Task, TaskAttachment, TaskMode } from '../domain.js';
import { OperationError, UsageError, quote } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import { assertCanContinue, assertCanStop, resumeMessage } from '../session-rules.js';
import type { NewSession, NewTask } from '../store/records.js';
import { newSessionFor, resolveTarget, targetInText, type SessionTarget } from '../targets.js';
import { tailLines } from '../transcripts.js';

/** Messages travel in an environment variable too; keep them well inside its limits. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export interface TaskOptions {
  agent?: AgentName | undefined;
  /** Overrides KUGETSU_MODEL for this task. */
  model?: string | undefined;
  /** Files staged for the task (see attachments.ts); the runner puts them in its workspace. */
  attachments?: readonly TaskAttachment[] | undefined;
}

export interface QueuedTask {
  task: Task;
  /** A line worth telling the user ("Resuming instead"). */
  note: string | null;
}

export function validateMessage(message: string): string {
  const text = message.trim();
  if (text === '') throw new UsageError('message is empty: say what the agent should do');
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new UsageError(
      `message is ${bytes} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit: shorten it`,
    );
  }
  if (text.includes('\0')) throw new UsageError('message contains a NUL byte');
  return text;
}

async function queue(
  ctx: HomeContext,
  target: SessionTarget,
  mode: TaskMode,
  message: string,
  options: TaskOptions,
): Promise<Task> {
  const { task: newTask, session } = await taskFor(ctx, target, mode, message, options);
  const task = await ctx.store.tasks.enqueue(newTask, session);
  await wakeDaemon(ctx.paths.daemonSocket);
  return task;
}

/**
 * The task (and session, if new) a queueing would write, checked but not written: intake
 * writes it under a key of its own (enqueueOnce) and wakes the daemon after.
 */
export async function taskFor(
  ctx: HomeContext,
  target: SessionTarget,
  mode: TaskMode,
  message: string,
  options: TaskOptions,
): Promise<{ task: NewTask; session: NewSession }> {
  const session = await ctx.store.sessions.get(target.issueRef);
  const agent = agentFor(session, options.agent ?? null, ctx.config.agent);
  const model = checkModel(options.model);
  assertAgentAvailable(agent, ctx.config, {
    model: model ?? ctx.config.model ?? null,
    path: agentPath(ctx, agent),
  });
  return {
    task: {
      kind: 'dev',
      mode,
      issueRef: target.issueRef,
      message,
      agent,
      model,
      maxAttempts: ctx.config.maxAttempts,
      attachments: checkAttachments(options.attachments),
    },
    session: newSessionFor(target, agent),
  };
}

function checkAttachments(
  attachments: readonly TaskAttachment[] | undefined,
): readonly TaskAttachment[] {
  const list = attachments ?? [];
  if (list.length > MAX_ATTACHMENTS) {
    throw new UsageError(
      `${list.length} files is too many for one task: at most ${MAX_ATTACHMENTS}`,
    );
  }
  // They land in one folder: two files called alike become `a.png` and `a-2.png`.
  const taken = new Set<string>();
  return list.map((attachment) => {
    const name = uniqueName(attachment.name, taken);
    taken.add(name);
    return { ...attachment, name };
  });
}

async function assertNothingQueued(ctx: HomeContext, issueRef: string): Promise<void> {
  const open = await ctx.store.tasks.list({ states: ['pending', 'running'], issueRef });
  if (open[0] !== undefined) {
    throw new OperationError(
      `session ${issueRef} already has task #${open[0].id} ${open[0].state}`,
    );
  }
}

export async function startTask(
  ctx: HomeContext,
  refInput: string,
  message: string,
  options: TaskOptions = {},
): Promise<QueuedTask> {
  const text = validateMessage(message);
  const target = await resolveTarget(ctx, refInput);
  const session = await ctx.store.sessions.get(target.issueRef);
  if (session?.state === 'left') {
    await assertNothingQueued(ctx, target.issueRef);
    return {
      task: await queue(ctx, target, 'resume', text, options),
      note: `session ${target.issueRef} was interrupted: resuming instead`,
    };
  }
  if (session !== null) {
    return {
      task: await queue(ctx, target, 'continue', text, options),
      note: `session ${target.issueRef} exists: continuing it`,
    };
  }
  return { task: await queue(ctx, target, 'start', text, options), note: null };
}

export async function continueTask(
  ctx: HomeContext,
  refInput: string,
  message: string,
  options: TaskOptions = {},
): Promise<QueuedTask> {
  const text = validateMessage(message);
  const target = await resolveTarget(ctx, refInput);
  assertCanContinue(target.issueRef, await ctx.store.sessions.get(target.issueRef));
  return { task: await queue(ctx, target, 'continue', text, options), note: null };
}

export async function resumeTask(
  ctx: HomeContext,
  refInput: string,
  message: string | undefined,
  options: TaskOptions = {},
): Promise<QueuedTask> {
  const target = await resolveTarget(ctx, refInput);
  const session = await ctx.store.sessions.get(target.issueRef);
  const text = validateMessage(resumeMessage(target.issueRef, session, message));
  await assertNothingQueued(ctx, target.issueRef);
  return {
    task: await queue(ctx, target, 'resume', text, options),
    note: message === undefined ? 'resuming with the stored message' : null,
  };
}

/** Asks the daemon to stop the session's running task; it ends `cancelled`, the session `left`. */
export async function stopSession(ctx: HomeContext, refInput: string): Promise<Task> {
  const target = await resolveTarget(ctx, refInput);
  assertCanStop(target.issueRef, await ctx.store.sessions.get(target.issueRef));
  const [running] = await ctx.store.tasks.list({ states: ['running'], issueRef: target.issueRef });
  if (running === undefined)
    throw new OperationError(`session ${target.issueRef} has no running task`);
  const task = await ctx.store.tasks.cancel(running.id);
  await wakeDaemon(ctx.paths.daemonSocket);
  return task;
}

export interface Delegated extends QueuedTask {
  /** `issue` when the message named one, `pm` when it went to the PM agent. */
  route: 'issue' | 'pm';
}

/** A message naming an issue becomes that issue's task; any other goes to the PM agent. */
export async function delegate(
  ctx: HomeContext,
  message: string,
  options: TaskOptions = {},
): Promise<Delegated> {
  const text = validateMessage(message);
  const target = await targetInText(ctx, text);
  if (target !== null) {
    const queued = await startTask(ctx, target.issueRef, text, options);
    return { ...queued, route: 'issue' };
  }
  const asked = await askPm(ctx, text, options);
  return { ...asked, note: 'no issue named: the PM agent takes it', route: 'pm' };
}

/** Queues a request for the PM agent (a delegate without an issue, a reply to its answer). */
export async function askPm(
  ctx: HomeContext,
  message: string,
  options: TaskOptions = {},
): Promise<QueuedTask> {
  const text = validateMessage(message);
  if ((options.attachments ?? []).length > 0) {
    throw new UsageError(
      'files need an issue to go with: name one in the message (e.g. me/app#14), or reply to its notification',
    );
  }
  const agent = options.agent ?? ctx.config.pmAgent;
  const model = checkModel(options.model);
  assertAgentAvailable(agent, ctx.config, {
    model: model ?? ctx.config.model ?? null,
    path: agentPath(ctx, 'pm-agent'),
  });
  const task = await ctx.store.tasks.enqueue(
    { kind: 'pm', mode: 'start', issueRef: null, message: text, agent, model, maxAttempts: 1 },
    null,
  );
  await wakeDaemon(ctx.paths.daemonSocket);
  return { task, note: null };
}

/**
 * A session keeps the agent it started with: another agent cannot continue its conversation.
 * The configured agent applies to new sessions only.
 */
function agentFor(
  session: Session | null,
  asked: AgentName | null,
  configured: AgentName,
): AgentName {
  if (session === null) return asked ?? configured;
  if (asked !== null && asked !== session.agent) {
    throw new UsageError(
      `session ${session.issueRef} runs ${session.agent}: it cannot continue with ${asked} (destroy it to start over with ${asked})`,
    );
  }
  return session.agent;
}

function checkModel(model: string | undefined): string | null {
  if (model === undefined) return null;
  if (!/^\S{1,200}$/.test(model)) {
    throw new UsageError(`invalid model ${quote(model)}: expected a model name without spaces`);
  }
  return model;
}

/** The PATH the agent will see: an env file may set its own. */
function agentPath(ctx: HomeContext, scope: AgentName | 'pm-agent'): string | undefined {
  return ctx.envFiles.merged(scope)['PATH'] ?? ctx.env['PATH'];
}

export async function cancelTask(ctx: HomeContext, id: number): Promise<Task> {
  const task = await ctx.store.tasks.cancel(id);
  await wakeDaemon(ctx.paths.daemonSocket);
  return task;
}

export async function retryTask(ctx: HomeContext, id: number): Promise<Task> {
  const task = await ctx.store.tasks.retry(id);
  await wakeDaemon(ctx.paths.daemonSocket);
  return task;
}

export function parseTaskId(input: string | undefined): number {
  if (input === undefined || !/^[1-9][0-9]{0,9}$/.test(input)) {
    throw new UsageError(
      `invalid task id ${JSON.stringify(input ?? '')}: expected a positive number`,
    );
  }
  return Number(input);
}

export async function getTask(ctx: HomeContext, id: number): Promise<Task> {
  const task = await ctx.store.tasks.get(id);
  if (task === null) throw new OperationError(`task ${id} not found`);
  return task;
}

/** A bare number is a task id; anything else is an issue ref, meaning its running or newest task. */
export async function resolveTaskId(ctx: HomeContext, input: string): Promise<number> {
  if (/^[0-9]+$/.test(input)) return (await getTask(ctx, parseTaskId(input))).id;
  const target = await resolveTarget(ctx, input);
  const task = await ctx.store.tasks.latestFor(target.issueRef);
  if (task === null) throw new OperationError(`no task has run for ${target.issueRef}`);
  return task.id;
}

/** A task's transcripts, attempt after attempt, each cut to its last `perRun` lines, scrubbed. */
export async function transcriptLines(
  ctx: HomeContext,
  taskId: number,
  perRun = Number.MAX_SAFE_INTEGER,
): Promise<string[]> {
  const scrubber = ctx.scrubber();
  return (await ctx.store.runs.list(taskId)).flatMap((run) =>
    tailLines(run.transcript, perRun, scrubber),
  );
}
