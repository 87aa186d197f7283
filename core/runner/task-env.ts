/** The environment of a task's agent and of its hooks (DESIGN.md §6). */
import { delimiter } from 'node:path';
import { buildAgentEnv } from '../agents/agent-env.js';
import { writeKugetsuShim } from '../agents/kugetsu-shim.js';
import type { Task, TaskMode } from '../domain.js';
import type { HomeContext } from '../home-context.js';
import type { WorkspaceTarget } from '../workspaces/workspaces.js';

export function taskEnv(
  ctx: HomeContext,
  task: Task,
  where: { cwd: string; target: WorkspaceTarget | null },
  mode: TaskMode,
  agentSessionId: string | null,
  model: string | null,
): Record<string, string> {
  const { envFiles } = ctx;
  return buildAgentEnv({
    base: ctx.env,
    withheldKeys: ctx.withheldKeys(),
    // The PM agent is an agent CLI too: its backend's file (credentials) under pm-agent.env.
    envFiles:
      task.kind === 'pm'
        ? { ...envFiles.merged(task.agent), ...envFiles.merged('pm-agent') }
        : envFiles.merged(task.agent),
    task: {
      taskId: task.id,
      issueRef: task.issueRef,
      worktree: where.cwd,
      branch: where.target?.branch ?? null,
      mode,
      attempt: task.attempts,
      sessionKey: where.target?.workspaceKey ?? 'pm',
      agentSessionId,
      model,
    },
  });
}

/** `kugetsu` on the agent's PATH, against this home; null `cli`: only KUGETSU_HOME. */
export function kugetsuOnPath(
  root: string,
  cli: string | null,
  env: Record<string, string>,
): Record<string, string> {
  const extra: Record<string, string> = { KUGETSU_HOME: root };
  if (cli !== null) {
    const binDir = writeKugetsuShim(root, cli);
    extra['PATH'] = [binDir, env['PATH'] ?? ''].filter((p) => p !== '').join(delimiter);
  }
  return extra;
}
