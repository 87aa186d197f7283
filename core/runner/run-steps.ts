/**
 * The steps of one attempt, as the orchestrator (task-runner.ts) sees them: each is an adapter
 * over git, the forge, hooks or the agent process, and each can be replaced by a fake.
 */
import type { PlacedAttachment } from '../attachments.js';
import type { AgentRun } from '../agents/agent-run.js';
import type { StopReason } from '../agents/agent-supervisor.js';
import type { Config } from '../config.js';
import type { Session, Task, TaskMode } from '../domain.js';
import type { HomeContext } from '../home-context.js';
import type { Workflow } from '../workflow/workflow.js';
import type { WorkspaceTarget } from '../workspaces/workspaces.js';
import type { AgentRunFacts } from './attempt-verdict.js';
import type { RunLedger } from './run-ledger.js';

/** Where the transcript of one attempt goes. */
export interface Transcript {
  readonly path: string;
  /** A line of kugetsu's own. */
  note(text: string): void;
  /** A line of the agent's or a hook's output. */
  line(text: string): void;
  close(): Promise<void>;
}

/** One attempt in flight: how `stop` reaches it wherever it is. */
export interface AttemptControl {
  process: AgentRun | null;
  stopRequested: StopReason | null;
  /** Ends a hook that runs when the stop comes. */
  readonly abort: AbortController;
}

export interface Workspace {
  /** Where the agent runs: the session's worktree, or the PM agent's directory. */
  cwd: string;
  /** The session the attempt runs in; null for the PM agent. */
  session: Session | null;
  target: WorkspaceTarget | null;
  workflow: Workflow | null;
  /** The task's files, already in the workspace. */
  attachments: PlacedAttachment[];
}

/** The first prompt of a session on a forge issue, and the title the hand-off then reuses. */
export interface IssuePrompt {
  prompt: string;
  title: string;
}

export interface AttemptStart {
  task: Task;
  /** The mode the attempt runs in (the session's state may turn a start into a continue). */
  mode: TaskMode;
  runId: number;
  transcript: Transcript;
  control: AttemptControl;
}

export interface RunSteps {
  /** The worktree (made if needed), WORKFLOW.md, its setup hooks and the attachments. */
  prepare(attempt: AttemptStart, session: Session | null): Promise<Workspace>;
  /** The issue's text through the template, when a new session on a forge issue begins. */
  renderPrompt(attempt: AttemptStart, workspace: Workspace): Promise<IssuePrompt | null>;
  runAgent(
    attempt: AttemptStart,
    workspace: Workspace,
    issuePrompt: IssuePrompt | null,
  ): Promise<AgentRunFacts>;
  /** The after_run hook; its failure is only reported. */
  afterRun(attempt: AttemptStart, workspace: Workspace): Promise<void>;
  /** After a success only: commit leftovers, push, pull request, comment. Returns the summary. */
  handOff(
    attempt: AttemptStart,
    workspace: Workspace & { target: WorkspaceTarget },
    finalText: string | null,
    issueTitle: string | null,
  ): Promise<string>;
}

export type RunnerConfig = Pick<
  Config,
  'retryBaseMs' | 'taskTimeoutMs' | 'stallTimeoutMs' | 'taskTokenBudget' | 'dailyTokenBudget'
>;

/** What the orchestrator works with: nothing of the home but these. */
export interface RunnerDeps {
  ledger: RunLedger;
  steps: RunSteps;
  config: RunnerConfig;
  openTranscript: (task: Task) => Transcript;
  /** Scrubs what goes into events: they reach chats and terminals. */
  scrub: (text: string) => string;
  log: (line: string) => void;
}

/** What the real steps work with: the home (never its legacy store), and the ledger. */
export interface StepDeps {
  ctx: HomeContext;
  ledger: RunLedger;
  /** Called after a step recorded an event mid-run, so sinks hear of it at once. */
  eventsWritten: () => void;
  /** The built CLI's entry point, put on the PM agent's PATH as `kugetsu`; null: not offered. */
  kugetsuCli: string | null;
}
