import type { AgentName } from '../domain.js';
import { agentBackend } from './registry.js';

/**
 * Refuses, at enqueue time, work for an agent that cannot run, so the user hears it at once
 * rather than from a failed task. Preparing an invocation is side-effect free.
 */
export function assertAgentAvailable(name: AgentName, command: string | undefined): void {
  agentBackend(name, { command }).prepare({
    mode: 'start',
    worktree: '.',
    prompt: '',
    agentSessionId: null,
    model: null,
    env: {},
  });
}
