import { AGENT_NAMES } from '../domain.js';
import { UsageError, quote } from '../errors.js';
import type { AgentName } from '../domain.js';
import type { AgentBackend } from './agent-backend.js';
import { commandBackend } from './command-backend.js';
import { unavailableBackend } from './unavailable-backend.js';

export function agentBackend(
  name: AgentName,
  options: { command: string | undefined },
): AgentBackend {
  return name === 'command' ? commandBackend(options.command) : unavailableBackend(name);
}

export function parseAgentName(input: string | undefined): AgentName | undefined {
  if (input === undefined) return undefined;
  if ((AGENT_NAMES as readonly string[]).includes(input)) return input as AgentName;
  throw new UsageError(`unknown agent ${quote(input)}: expected one of ${AGENT_NAMES.join(', ')}`);
}
