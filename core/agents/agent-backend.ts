/** The seam between kugetsu and a coding agent CLI (DESIGN.md §6). */
import type { AgentName, TaskMode, Usage } from '../domain.js';
import type { AgentOutputParser } from './agent-output.js';

export interface AgentRunRequest {
  mode: TaskMode;
  worktree: string;
  prompt: string;
  /** The agent's own session id when continuing or resuming. */
  agentSessionId: string | null;
  /** For a new session: the base session to fork it from, when the backend can. */
  forkFrom: string | null;
  model: string | null;
  /** The agent's whole environment, already composed (see agent-env.ts). */
  env: Record<string, string>;
  /** Directories outside the worktree the agent must write (the repository's git directory). */
  writableDirs: string[];
  /** Commands the agent may run without asking (the PM agent's `kugetsu`). */
  allowedCommands: string[];
  /**
   * Absolute paths of images that come with the task (the prompt names them too). Backends
   * whose CLI takes images pass them natively; the others leave them to the prompt.
   */
  images?: readonly string[];
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
  /**
   * Whether a session made in one directory can be forked into another. Base sessions need
   * it: a backend without it gets kugetsu's standing instructions with its first prompt.
   */
  readonly forksAcrossDirectories: boolean;
  /** Whether new sessions get kugetsu's standing instructions (a user's own command does not). */
  readonly instructed: boolean;
  /** Whether the agent can commit in a worktree; if not, kugetsu commits what it leaves. */
  readonly commitsItself: boolean;
  /** Builds the invocation; throws OperationError when the backend cannot run. */
  prepare(request: AgentRunRequest): AgentInvocation;
  /**
   * A fresh reader of one run's stdout. `sessionTotals` is what the agent last reported the
   * session (or the session it forks) had used, for agents that report running totals.
   */
  parser(sessionTotals: Usage | null): AgentOutputParser;
}
