import { policyFor } from '../approvals/policy.js';
import type { AgentName } from '../domain.js';
import { agentBackend, type AgentSettings } from './registry.js';

/**
 * Refuses, at enqueue time, work for an agent that cannot run (no binary, no command, a model
 * the agent cannot take), so the user hears it at once rather than from a failed task.
 * Preparing an invocation is side-effect free.
 */
export function assertAgentAvailable(
  name: AgentName,
  settings: AgentSettings,
  options: { model: string | null; path: string | undefined },
): void {
  agentBackend(name, settings).prepare({
    mode: 'start',
    worktree: '.',
    prompt: '',
    agentSessionId: null,
    forkFrom: null,
    model: options.model,
    env: options.path === undefined ? {} : { PATH: options.path },
    writableDirs: [],
    allowedCommands: [],
    policy: policyFor(settings.approvalPolicy, name),
    permissionServer: null,
  });
}
