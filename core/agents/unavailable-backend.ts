import type { AgentName } from '../domain.js';
import { OperationError } from '../errors.js';
import { sessionIdFromMarker, type AgentBackend } from './agent-backend.js';

/** The real-CLI backends (opencode, claude, codex) arrive in a later release; say so plainly. */
export function unavailableBackend(name: AgentName): AgentBackend {
  return {
    name,
    prepare() {
      throw new OperationError(
        `agent ${name} is not yet available: set KUGETSU_AGENT=command and KUGETSU_AGENT_COMMAND`,
      );
    },
    sessionIdFrom: sessionIdFromMarker,
  };
}
