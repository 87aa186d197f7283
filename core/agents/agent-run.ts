/**
 * One agent run: the supervised process, and — for invocations with a driver — the conversation
 * the driver holds with it. Every caller that runs an agent (tasks, the base session) goes
 * through here, so a driver sees the same wiring wherever it runs.
 */
import type { ApprovalAnswer, ApprovalRequest } from '../approvals/approval.js';
import type { DriverIo } from './agent-backend.js';
import {
  superviseAgent,
  type AgentProcess,
  type SuperviseOptions,
  type SupervisedResult,
} from './agent-supervisor.js';

export interface AgentRunResult extends SupervisedResult {
  /** What the driver said went wrong when it ended the conversation; null otherwise. */
  driverError: string | null;
}

export interface AgentRunOptions extends SuperviseOptions {
  /** The approval gate for the driver's requests. */
  ask: (request: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalAnswer>;
  note: (line: string) => void;
}

export interface AgentRun extends Omit<AgentProcess, 'done'> {
  readonly done: Promise<AgentRunResult>;
}

export function runAgent(options: AgentRunOptions): AgentRun {
  const driver = options.invocation.driver;
  const aborted = new AbortController();
  let driverError: string | null = null;
  // Lines reach the driver first: it may answer a request the parser only reports.
  const proc = superviseAgent({
    ...options,
    onLine: (line, stream) => {
      if (stream === 'stdout') driver?.line(line);
      options.onLine(line, stream);
    },
  });
  const stop: AgentProcess['stop'] = (reason) => {
    aborted.abort();
    proc.stop(reason);
  };
  if (driver !== undefined) {
    const io: DriverIo = {
      write: (text) => proc.write(text),
      endInput: () => proc.endInput(),
      emit: (line) => {
        proc.touch();
        options.onLine(line, 'stdout');
      },
      ask: (request) => options.ask(request, aborted.signal),
      note: options.note,
      finish: (result) => {
        driverError ??= result.error;
        stop('finished');
      },
      signal: aborted.signal,
    };
    driver.start(io);
  }
  const done = proc.done.then((result) => {
    aborted.abort();
    return { ...result, driverError };
  });
  return { ...proc, stop, done };
}
