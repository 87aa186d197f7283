/** The seam between kugetsu and a coding agent CLI (DESIGN.md §6). */
import type { AgentName, TaskMode } from '../domain.js';

export interface AgentRunRequest {
  mode: TaskMode;
  worktree: string;
  prompt: string;
  /** The agent's own session id when continuing or resuming. */
  agentSessionId: string | null;
  model: string | null;
  /** The agent's whole environment, already composed (see agent-env.ts). */
  env: Record<string, string>;
}

/** What to run: never a shell string built from user input. */
export interface AgentInvocation {
  file: string;
  args: string[];
  /** Written to the agent's stdin, then closed. */
  stdin: string;
  env: Record<string, string>;
}

export interface AgentBackend {
  readonly name: AgentName;
  /** Builds the invocation; throws OperationError when the backend cannot run. */
  prepare(request: AgentRunRequest): AgentInvocation;
  /** The agent's session id if this line of its output announces one. */
  sessionIdFrom(line: string): string | null;
}

const SESSION_LINE = /^KUGETSU_AGENT_SESSION=([A-Za-z0-9._:@-]{1,200})\s*$/;

/** Every backend honours the `KUGETSU_AGENT_SESSION=<id>` line on stdout. */
export function sessionIdFromMarker(line: string): string | null {
  return SESSION_LINE.exec(line)?.[1] ?? null;
}
