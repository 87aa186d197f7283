/**
 * The one owner of agent child processes: spawn in a process group of its own, feed the
 * prompt, split and scrub output, enforce the timeout and the stall limit, and escalate
 * SIGTERM → SIGKILL on the whole group. It resolves only once every process of the group is
 * gone, so the caller may release the agent's slot the moment it resolves.
 */
import { execa } from 'execa';
import { setTimeout as delay } from 'node:timers/promises';
import { groupAlive, signalGroup } from '../process-info.js';
import type { AgentInvocation } from './agent-backend.js';
import { LineSplitter } from './line-splitter.js';

/**
 * `budget`: a token budget was crossed; `fatal`: the agent's output showed no retry can help;
 * `finished`: the agent's driver ended a conversation that is over (not a failure by itself).
 */
export type StopReason =
  'timeout' | 'stall' | 'stopped' | 'shutdown' | 'budget' | 'fatal' | 'finished';

export interface SuperviseOptions {
  invocation: AgentInvocation;
  cwd: string;
  timeoutMs: number;
  stallMs: number;
  killGraceMs: number;
  /** Called synchronously right after spawn, before any await: record the pid durably here. */
  onSpawn: (pid: number) => void;
  /** Every complete output line (stdout and stderr), unscrubbed. */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** While true (the agent waits for a person's answer), silence is not a stall. */
  isWaiting?: () => boolean;
  /**
   * Called once when the agent has been silent for `stallMs`, instead of stopping it: the caller
   * asks, then answers with `extendStall` or `stop('stall')`. Without it a stall stops the agent.
   */
  onStall?: () => void;
}

export interface SupervisedResult {
  exitCode: number | null;
  signal: string | null;
  /** Set when kugetsu ended the run rather than the agent. */
  stopReason: StopReason | null;
  /** Set when the process could not be started at all. */
  spawnError: string | null;
}

export interface AgentProcess {
  readonly pid: number | null;
  readonly done: Promise<SupervisedResult>;
  stop(reason: StopReason): void;
  /** Writes to the agent's stdin; only invocations with a driver keep it open. */
  write(text: string): void;
  endInput(): void;
  /** Output the agent gave by other means (a driver's HTTP events): it is not silent. */
  touch(): void;
  /** After a stall question: the next stall is not before `ms` from now. */
  extendStall(ms: number): void;
}

const GROUP_POLL_MS = 50;
// A process that left our group (setsid) but kept our pipe open must not hold the run forever.
const PIPE_DRAIN_MS = 2_000;

export function superviseAgent(options: SuperviseOptions): AgentProcess {
  const { invocation } = options;
  const child = execa(invocation.file, invocation.args, {
    cwd: options.cwd,
    env: invocation.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    buffer: false,
    reject: false,
    stdin: 'pipe',
    stripFinalNewline: false,
  });
  const pid = child.pid ?? null;
  let stopReason: StopReason | null = null;
  let lastOutputAt = Date.now();
  // Set while a stall question is out: the check waits for its answer instead of asking again.
  let stallAsked = false;
  let killTimer: NodeJS.Timeout | null = null;

  if (pid !== null) options.onSpawn(pid);

  const terminateGroup = (): void => {
    if (pid === null) return;
    signalGroup(pid, 'SIGTERM');
    killTimer ??= setTimeout(() => signalGroup(pid, 'SIGKILL'), options.killGraceMs);
  };

  const stop = (reason: StopReason): void => {
    if (stopReason !== null || pid === null) return;
    stopReason = reason;
    terminateGroup();
  };

  const handleLine = (stream: 'stdout' | 'stderr') => (line: string) => {
    options.onLine(line, stream);
  };
  const splitters = {
    stdout: new LineSplitter(handleLine('stdout')),
    stderr: new LineSplitter(handleLine('stderr')),
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => {
      lastOutputAt = Date.now();
      splitters[stream].push(chunk);
    });
  }
  // An agent that never reads its stdin closes the pipe early; that is not a failure.
  child.stdin?.on('error', () => undefined);
  if (invocation.driver === undefined) child.stdin?.end(invocation.stdin);
  else if (invocation.stdin !== '') child.stdin?.write(invocation.stdin);

  const timeout = setTimeout(() => stop('timeout'), options.timeoutMs);
  const stallCheck = setInterval(
    () => {
      if (stopReason !== null || stallAsked) return;
      const now = Date.now();
      if (options.isWaiting?.() === true) {
        lastOutputAt = now;
        return;
      }
      if (now - lastOutputAt < options.stallMs) return;
      if (options.onStall === undefined) {
        stop('stall');
        return;
      }
      stallAsked = true;
      options.onStall();
    },
    Math.max(50, Math.min(1_000, options.stallMs / 4)),
  );

  const exited = new Promise<{ code: number | null; signal: string | null; error: string | null }>(
    (resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, error: null }));
      child.once('error', (err) => resolve({ code: null, signal: null, error: err.message }));
    },
  );

  const done = (async (): Promise<SupervisedResult> => {
    const exit = await exited;
    clearTimeout(timeout);
    clearInterval(stallCheck);
    // The leader is gone; anything it left behind in its group is still an agent process.
    if (pid !== null && groupAlive(pid)) terminateGroup();
    while (pid !== null && groupAlive(pid)) await delay(GROUP_POLL_MS);
    if (killTimer !== null) clearTimeout(killTimer);
    await Promise.race([
      child.catch(() => undefined),
      delay(PIPE_DRAIN_MS, undefined, { ref: false }),
    ]);
    child.stdout?.destroy();
    child.stderr?.destroy();
    splitters.stdout.end();
    splitters.stderr.end();
    return {
      exitCode: exit.code,
      signal: exit.signal,
      stopReason,
      spawnError:
        pid === null || exit.error !== null ? (exit.error ?? 'the process did not start') : null,
    };
  })();

  return {
    pid,
    done,
    stop,
    write: (text) => {
      if (child.stdin?.writable === true) child.stdin.write(text);
    },
    endInput: () => child.stdin?.end(),
    touch: () => {
      lastOutputAt = Date.now();
    },
    extendStall: (ms) => {
      lastOutputAt = Date.now() - options.stallMs + ms;
      stallAsked = false;
    },
  };
}
