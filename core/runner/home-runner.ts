/** The task runner of a home: its steps over git, the forge and agents, its ledger the Store. */
import type { HomeContext } from '../home-context.js';
import { TranscriptWriter, transcriptPath } from '../transcripts.js';
import { handOff } from './hand-off.js';
import { afterRun, prepareWorkspace } from './prepare-workspace.js';
import { renderIssuePrompt } from './render-prompt.js';
import { runAgentStep } from './run-agent.js';
import { storeLedger } from './run-ledger.js';
import type { StepDeps } from './run-steps.js';
import { TaskRunner } from './task-runner.js';

export function homeRunner(
  ctx: HomeContext,
  log: (line: string) => void,
  /** Called after the runner recorded an event mid-run, so sinks hear of it at once. */
  eventsWritten: () => void = () => undefined,
  /** The built CLI's entry point, put on the PM agent's PATH as `kugetsu`; null: not offered. */
  kugetsuCli: string | null = null,
  /** Fencing: the token each running task was claimed with, and how its last write persists. */
  fencing: Parameters<typeof storeLedger>[1] = () => undefined,
  persist?: Parameters<typeof storeLedger>[2],
): TaskRunner {
  const ledger = storeLedger(ctx.store, fencing, persist);
  const deps: StepDeps = { ctx, ledger, eventsWritten, kugetsuCli };
  return new TaskRunner({
    ledger,
    config: ctx.config,
    steps: {
      prepare: (attempt, session) => prepareWorkspace(deps, attempt, session),
      renderPrompt: (attempt, workspace) => renderIssuePrompt(deps, attempt, workspace),
      runAgent: (attempt, workspace, issue) => runAgentStep(deps, attempt, workspace, issue),
      afterRun: (attempt, workspace) => afterRun(deps, attempt, workspace),
      handOff: (attempt, workspace, answer, title) =>
        handOff(deps, attempt, workspace, answer, title),
    },
    openTranscript: (task) =>
      new TranscriptWriter(
        transcriptPath(ctx.paths.transcriptsDir, task.id, task.attempts),
        ctx.scrubber(),
      ),
    scrub: (text) => ctx.scrubber().scrub(text),
    log,
  });
}
