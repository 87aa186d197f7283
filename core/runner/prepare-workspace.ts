/**
 * The workspace of an attempt: the session's worktree (made if needed), the repository's
 * WORKFLOW.md and its hooks, the task's files; or the PM agent's directory.
 */
import { mkdirSync } from 'node:fs';
import { WORKSPACE_ATTACHMENTS, placeAttachments, type PlacedAttachment } from '../attachments.js';
import type { Session } from '../domain.js';
import { asPermanent } from '../errors.js';
import { targetOfSession } from '../targets.js';
import { runHook } from '../workflow/hooks.js';
import type { HookName, Workflow } from '../workflow/workflow.js';
import type { WorkspaceTarget } from '../workspaces/workspaces.js';
import { loadWorkflow } from './issue-prompt.js';
import type { AttemptStart, StepDeps, Workspace } from './run-steps.js';
import { taskEnv } from './task-env.js';

export async function prepareWorkspace(
  deps: StepDeps,
  attempt: AttemptStart,
  session: Session | null,
): Promise<Workspace> {
  const { ctx } = deps;
  const { transcript } = attempt;
  if (session === null) {
    mkdirSync(ctx.paths.pmDir, { recursive: true });
    return { cwd: ctx.paths.pmDir, session, target: null, workflow: null, attachments: [] };
  }
  const target = await targetOfSession(ctx, session);
  const made = await ctx.workspaces.ensureWorktree(target, (line) => transcript.note(line));
  transcript.note(`worktree ${made}: ${target.worktreePath}`);
  // A broken WORKFLOW.md is a permanent error: the task fails until it is fixed.
  const workflow = await loadWorkflow(ctx.workspaces, target);
  if (workflow !== null) transcript.note(`using ${workflow.source} from the default branch`);
  const workspace: Workspace = {
    cwd: target.worktreePath,
    session,
    target,
    workflow,
    attachments: [],
  };
  if (made === 'created') {
    const created = await runWorkspaceHook(deps, attempt, workspace, 'after_create');
    if (created !== null) {
      // Made again, and the hook run again, by the next attempt.
      await ctx.workspaces.discardWorktree(target);
      throw new Error(created);
    }
  }
  workspace.attachments = await placeTaskAttachments(deps, attempt, target);
  const before = await runWorkspaceHook(deps, attempt, workspace, 'before_run');
  if (before !== null) throw new Error(before);
  return workspace;
}

/** The after_run hook of a session's workspace; its failure is only reported. */
export async function afterRun(
  deps: StepDeps,
  attempt: AttemptStart,
  workspace: Workspace,
): Promise<void> {
  if (workspace.session !== null && workspace.target !== null)
    await runWorkspaceHook(deps, attempt, workspace, 'after_run');
}

/** Runs one of the workflow's hooks, if it has it. Returns why it failed, or null. */
async function runWorkspaceHook(
  { ctx }: StepDeps,
  { task, mode, transcript, control }: AttemptStart,
  workspace: Workspace,
  name: HookName,
): Promise<string | null> {
  const workflow: Workflow | null = workspace.workflow;
  const script = workflow?.hooks.scripts[name];
  if (workflow === null || script === undefined) return null;
  transcript.note(`running the ${name} hook`);
  const env = taskEnv(ctx, task, workspace, mode, workspace.session?.agentSessionId ?? null, null);
  const result = await runHook(name, script, {
    cwd: workspace.cwd,
    env,
    timeoutMs: workflow.hooks.timeoutMs,
    killGraceMs: ctx.config.killGraceMs,
    onLine: (line) => transcript.line(line),
    signal: control.abort.signal,
  });
  if (result.ok) return null;
  transcript.note(result.summary);
  // after_run and before_remove only report: the run's outcome is already decided.
  return name === 'after_run' || name === 'before_remove' ? null : result.summary;
}

/**
 * Copies the task's files into `.kugetsu/attachments/<task id>/` of its worktree, which git is
 * told to ignore first (the leftovers commit and `destroy`'s dirty check must not see them).
 */
async function placeTaskAttachments(
  { ctx, ledger }: StepDeps,
  { task, transcript }: AttemptStart,
  target: WorkspaceTarget,
): Promise<PlacedAttachment[]> {
  const attachments = await ledger.attachments(task.id);
  if (attachments.length === 0) return [];
  await ctx.workspaces.ignoreInWorktrees(target, `/${WORKSPACE_ATTACHMENTS}/`);
  let placed: PlacedAttachment[];
  try {
    placed = placeAttachments(target.worktreePath, task.id, attachments);
  } catch (err) {
    // A workspace that refuses them (a committed symbolic link) refuses them every time.
    throw asPermanent(err);
  }
  transcript.note(
    `attachments in ${WORKSPACE_ATTACHMENTS}/${task.id}/: ${placed.map((a) => a.name).join(', ') || 'none left'}`,
  );
  return placed;
}
