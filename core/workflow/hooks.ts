/**
 * Runs one workspace hook from a repository's WORKFLOW.md. The script is the repository's own
 * (trusted as its Makefile is), so it runs as `/bin/sh -c SCRIPT` — the script is one argv
 * element, never joined with anything kugetsu adds. Values for it go in `env`.
 *
 * The agent supervisor owns the process: its own process group, the timeout, SIGTERM → SIGKILL
 * on the whole group, and resolving only once every process of that group is gone. So a hook
 * that leaves `sleep 300 &` behind does not outlive its run — a hook that means to start a
 * lasting service must not rely on it surviving.
 */
import { superviseAgent } from '../agents/agent-supervisor.js';
import type { HookName } from './workflow.js';

export interface HookOptions {
  /** The worktree. */
  cwd: string;
  /** The hook's whole environment (nothing is inherited from kugetsu's own): compose it. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL of the group, on timeout or abort. */
  killGraceMs: number;
  /** Every complete line of stdout and stderr, unscrubbed, in arrival order. */
  onLine: (line: string) => void;
  /** Ends the hook's group early (daemon shutdown, task stopped). */
  signal?: AbortSignal;
}

export interface HookResult {
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /**
   * One line for an error message, ending with the hook's last output line when it printed
   * any, e.g. `after_create hook failed (exit 3): npm ERR! missing script`. Unscrubbed.
   */
  summary: string;
}

const LAST_LINE_MAX = 200;
// The supervisor's stall check is for agents; a hook is bounded by its timeout alone.
const NO_STALL = Number.MAX_SAFE_INTEGER;

export async function runHook(
  name: HookName,
  script: string,
  options: HookOptions,
): Promise<HookResult> {
  let lastLine = '';
  const child = superviseAgent({
    invocation: { file: '/bin/sh', args: ['-c', script], stdin: '', env: options.env },
    cwd: options.cwd,
    timeoutMs: options.timeoutMs,
    stallMs: NO_STALL,
    killGraceMs: options.killGraceMs,
    onSpawn: () => undefined,
    onLine: (line) => {
      if (line.trim() !== '') lastLine = line.trim();
      options.onLine(line);
    },
  });
  const abort = (): void => child.stop('stopped');
  if (options.signal?.aborted === true) abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  const result = await child.done.finally(() =>
    options.signal?.removeEventListener('abort', abort),
  );

  const tail =
    lastLine === ''
      ? ''
      : `: ${lastLine.length > LAST_LINE_MAX ? `${lastLine.slice(0, LAST_LINE_MAX)}…` : lastLine}`;
  const timedOut = result.stopReason === 'timeout';
  const ok = result.spawnError === null && result.stopReason === null && result.exitCode === 0;
  let summary: string;
  if (result.spawnError !== null) {
    summary = `${name} hook could not start: ${result.spawnError}`;
  } else if (timedOut) {
    summary = `${name} hook timed out after ${formatMs(options.timeoutMs)}${tail}`;
  } else if (result.stopReason !== null) {
    summary = `${name} hook was stopped${tail}`;
  } else if (result.exitCode === 0) {
    summary = `${name} hook succeeded${tail}`;
  } else if (result.exitCode !== null) {
    summary = `${name} hook failed (exit ${result.exitCode})${tail}`;
  } else {
    summary = `${name} hook was killed by ${result.signal ?? 'a signal'}${tail}`;
  }
  return { ok, exitCode: result.exitCode, timedOut, summary };
}

function formatMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Number((ms / 1_000).toFixed(1))} s`;
}
