/** The seam between kugetsu and a coding agent CLI (DESIGN.md §6). */
import type { ApprovalAnswer, ApprovalRequest, PolicyCategory } from '../approvals/approval.js';
import type { PolicyAction } from '../approvals/policy.js';
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
   * KUGETSU_APPROVAL_POLICY for this agent, per category. A backend translates it into its
   * CLI's own permission settings, so that what is `ask` reaches kugetsu as a request and what is
   * `deny` is refused by the agent itself; kugetsu's gate applies it again to every request.
   */
  policy: Record<PolicyCategory, PolicyAction>;
  /**
   * How to start kugetsu's MCP permission server (claude's permission-prompt tool), which
   * reaches the gate through the home's store; null when this kugetsu cannot offer it.
   */
  permissionServer: { command: string; args: string[]; env: Record<string, string> } | null;
  /**
   * Absolute paths of images that come with the task (the prompt names them too). Backends
   * whose CLI takes images pass them natively; the others leave them to the prompt.
   */
  images?: readonly string[];
}

/**
 * A conversation with an agent that asks while it runs (a JSON-RPC peer on stdio, an HTTP
 * server): its stdin stays open and the driver speaks the protocol. One driver per run.
 */
export interface AgentDriver {
  /** Called right after spawn, before any output: send the opening messages. */
  start(io: DriverIo): void;
  /** Every stdout line, before the output parser sees it. */
  line(text: string): void;
}

export interface DriverIo {
  /** Writes to the agent's stdin. */
  write(text: string): void;
  endInput(): void;
  /** A line for the output parser and the transcript, as if the agent had printed it. */
  emit(line: string): void;
  /** Asks through kugetsu's approval gate: policy, grants, then the phone or the CLI. */
  ask(request: ApprovalRequest): Promise<ApprovalAnswer>;
  /** A note in the transcript. */
  note(line: string): void;
  /**
   * The conversation is over: the agent's process group is ended, and the run is judged as if
   * the agent had exited 0 when `error` is null, as failed with `error` otherwise.
   */
  finish(result: { error: string | null }): void;
  /** Aborted when the run is stopped for any reason. */
  readonly signal: AbortSignal;
}

/** What to run: never a shell string built from user input. */
export interface AgentInvocation {
  file: string;
  args: string[];
  /** Written to the agent's stdin, then closed (kept open when there is a driver). */
  stdin: string;
  env: Record<string, string>;
  driver?: AgentDriver;
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
