/**
 * The gate for a task's agent, opened from a process of the agent's own (claude's MCP server,
 * `kugetsu ask` run by a command agent): the store is the only link to the daemon, and a
 * wake-up over its socket gets the push out at once.
 */
import { wakeDaemon } from '../wake-channel.js';
import { OperationError } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import { approvalGate, type ApprovalGate } from './gate.js';

export async function gateForRunningTask(ctx: HomeContext, taskId: number): Promise<ApprovalGate> {
  const task = await ctx.store.tasks.get(taskId);
  if (task === null || task.state !== 'running')
    throw new OperationError(`task ${taskId} is not running: only a running task's agent can ask`);
  return approvalGate({
    approvals: ctx.store.approvals,
    taskId,
    agent: task.agent,
    policy: ctx.config.approvalPolicy,
    timeoutMs: ctx.config.approvalTimeoutMs,
    announce: () => void wakeDaemon(ctx.paths.daemonSocket),
    scrub: (text) => ctx.scrubber().scrub(text),
  });
}
