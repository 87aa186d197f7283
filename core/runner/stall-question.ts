/**
 * The approval gate of a running attempt, and the question a stall becomes: a stalled agent is
 * asked about before it is stopped.
 */
import type { Approval } from '../approvals/approval.js';
import { approvalGate, type ApprovalGate } from '../approvals/gate.js';
import { formatMinutes, truncate } from './attempt-verdict.js';
import type { AttemptStart, StepDeps } from './run-steps.js';

export function runGate(
  { ctx, ledger, eventsWritten }: StepDeps,
  { task, transcript }: AttemptStart,
): ApprovalGate {
  return approvalGate({
    approvals: ledger.approvals,
    taskId: task.id,
    agent: task.agent,
    policy: ctx.config.approvalPolicy,
    timeoutMs: ctx.config.approvalTimeoutMs,
    announce: eventsWritten,
    scrub: (text) => ctx.scrubber().scrub(text),
    note: (line) => transcript.note(line),
  });
}

/**
 * Resolves with how long to wait before the next stall check; `stopped` when a person chose
 * Stop (the task ends, it is not retried); `stall` when nobody answered (a stalled attempt, as
 * without the question).
 */
export async function askAboutStall(
  { ctx }: StepDeps,
  gate: ApprovalGate,
  lastLine: string | null,
  opened: (approval: Approval) => void,
): Promise<number | 'stopped' | 'stall'> {
  const { config } = ctx;
  const answer = await gate.ask(
    {
      kind: 'stall',
      tool: 'kugetsu',
      category: 'other',
      subject: `has been silent for ${formatMinutes(config.stallTimeoutMs)}`,
      reason: lastLine === null ? null : `its last line: ${truncate(lastLine, 300)}`,
      options: [],
    },
    {
      timeoutMs: config.stallGraceMs,
      timeoutMessage: `no answer within ${formatMinutes(config.stallGraceMs)} (KUGETSU_STALL_GRACE_MINUTES): stopped`,
      onOpened: opened,
    },
  );
  if (answer.decision !== 'allow') return answer.by.channel === 'timeout' ? 'stall' : 'stopped';
  // The agent resumed by itself: the ordinary stall limit applies again.
  return answer.by.channel === 'kugetsu' ? config.stallTimeoutMs : config.stallExtendMs;
}
