/**
 * Creating the base session: one agent run, outside any worktree, that takes in kugetsu's
 * standing instructions. New dev sessions of a backend that forks across directories start as
 * forks of it; other backends get the same instructions with their first prompt, and their
 * base record says so (a null session id).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { agentSessionMeta, type BaseSessionRecord } from '../agent-sessions.js';
import { buildAgentEnv } from '../agents/agent-env.js';
import { runAgent } from '../agents/agent-run.js';
import { policyFor } from '../approvals/policy.js';
import { BASE_SESSION_PROMPT } from '../agents/instructions.js';
import { agentBackend } from '../agents/registry.js';
import type { AgentName } from '../domain.js';
import { OperationError } from '../errors.js';
import type { HomeContext } from '../home-context.js';

export function baseSessionDir(ctx: HomeContext): string {
  return join(ctx.paths.root, 'base');
}

/** The agent's base session, created when missing. Throws OperationError when the run fails. */
export async function ensureBaseSession(
  ctx: HomeContext,
  agent: AgentName,
  progress: (line: string) => void,
): Promise<BaseSessionRecord> {
  const meta = agentSessionMeta(ctx.store.meta);
  const existing = await meta.base(agent);
  if (existing !== null) return existing;
  const backend = agentBackend(agent, ctx.config);
  if (!backend.forksAcrossDirectories) return meta.setBase(agent, null);
  const cwd = baseSessionDir(ctx);
  mkdirSync(cwd, { recursive: true, mode: 0o700 });
  const model = ctx.config.model ?? null;
  const env = buildAgentEnv({
    base: ctx.env,
    withheldKeys: ctx.withheldKeys(),
    envFiles: ctx.envFiles.merged(agent),
    task: {
      taskId: 0,
      issueRef: null,
      worktree: cwd,
      branch: null,
      mode: 'start',
      attempt: 1,
      sessionKey: 'base',
      agentSessionId: null,
      model,
    },
  });
  const invocation = backend.prepare({
    mode: 'start',
    worktree: cwd,
    prompt: BASE_SESSION_PROMPT,
    agentSessionId: null,
    forkFrom: null,
    model,
    env,
    writableDirs: [],
    allowedCommands: [],
    policy: policyFor(ctx.config.approvalPolicy, agent),
    permissionServer: null,
  });
  progress(`creating the ${agent} base session`);
  const parser = backend.parser(null);
  const scrubber = ctx.scrubber();
  const proc = runAgent({
    invocation,
    // Nobody waits on the phone for a session made at set-up; it is told no at once.
    ask: () =>
      Promise.resolve({
        decision: 'deny',
        message: 'nothing may be approved while the base session is made',
        by: { channel: 'kugetsu', who: 'kugetsu' },
      }),
    note: progress,
    cwd,
    timeoutMs: Math.min(ctx.config.taskTimeoutMs, 5 * 60_000),
    stallMs: ctx.config.stallTimeoutMs,
    killGraceMs: ctx.config.killGraceMs,
    onSpawn: () => undefined,
    onLine: (line, stream) => {
      if (stream !== 'stdout') return;
      const reading = parser.line(line);
      for (const shown of reading.display) progress(`  ${scrubber.scrub(shown)}`);
      if (reading.fatal !== undefined) proc.stop('fatal');
    },
  });
  const result = await proc.done;
  const report = parser.report();
  // A driver that ended the conversation ended the process too: its exit code says nothing.
  const succeeded =
    result.stopReason === 'finished' ? result.driverError === null : result.exitCode === 0;
  if (!succeeded || report.sessionId === null) {
    const why =
      report.fatal?.message ??
      report.error ??
      result.driverError ??
      result.spawnError ??
      (result.stopReason !== null
        ? `stopped (${result.stopReason})`
        : `exit code ${String(result.exitCode)}`);
    throw new OperationError(`could not create the ${agent} base session: ${scrubber.scrub(why)}`);
  }
  const record = await meta.setBase(agent, report.sessionId);
  if (report.sessionTotals !== null)
    await meta.setTotals(agent, report.sessionId, report.sessionTotals);
  return record;
}
