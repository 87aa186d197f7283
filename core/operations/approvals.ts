/** Answering approvals: what `kugetsu approve|deny` and the bot's buttons and replies do. */
import {
  describeResolution,
  type AnsweredBy,
  type Approval,
  type ApprovalAnswer,
} from '../approvals/approval.js';
import { wakeDaemon } from '../wake-channel.js';
import { OperationError, UsageError, quote } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import type { ResolveResult } from '../store/approval-records.js';

export type ApprovalVerdict =
  | { kind: 'allow'; scope: 'once' | 'task' }
  | { kind: 'deny'; message: string | null }
  | { kind: 'answer'; text: string };

const MAX_ANSWER_CHARS = 4_000;

export function parseApprovalId(input: string | undefined): number {
  if (input === undefined || !/^[1-9][0-9]{0,15}$/.test(input))
    throw new UsageError(`approval id must be a positive whole number, got ${quote(input ?? '')}`);
  return Number(input);
}

/** The answer a verdict makes for this request, or a usage error when it does not fit it. */
export function answerFor(
  approval: Pick<Approval, 'id' | 'kind'>,
  verdict: ApprovalVerdict,
  by: AnsweredBy,
): ApprovalAnswer {
  const id = `approval #${approval.id}`;
  switch (verdict.kind) {
    case 'allow':
      if (approval.kind === 'question')
        throw new UsageError(
          `${id} is a question: answer it (kugetsu approve ${approval.id} --answer TEXT)`,
        );
      return { decision: 'allow', scope: approval.kind === 'stall' ? 'once' : verdict.scope, by };
    case 'deny':
      return {
        decision: 'deny',
        message:
          verdict.message ??
          (approval.kind === 'question'
            ? `${by.who} declined to answer: decide yourself`
            : approval.kind === 'stall'
              ? `stopped by ${by.who}`
              : `denied by ${by.who}`),
        by,
      };
    case 'answer': {
      if (approval.kind !== 'question')
        throw new UsageError(`${id} is not a question: approve or deny it`);
      const text = verdict.text.trim();
      if (text === '') throw new UsageError('the answer is empty');
      if (text.length > MAX_ANSWER_CHARS)
        throw new UsageError(`the answer is ${text.length} characters, over ${MAX_ANSWER_CHARS}`);
      if (text.includes('\0')) throw new UsageError('the answer contains a NUL byte');
      return { decision: 'answer', text, by };
    }
  }
}

/**
 * Resolves an open request with the first answer and wakes the daemon, which pushes the
 * resolution (the asking message is edited in every chat). A request answered already is left
 * as it is: the result says who was first.
 */
export async function answerApproval(
  ctx: HomeContext,
  id: number,
  verdict: ApprovalVerdict,
  by: AnsweredBy,
): Promise<ResolveResult> {
  const approval = await ctx.store.approvals.get(id);
  if (approval === null) throw new OperationError(`approval #${id} not found`);
  if (approval.state !== 'open') return { approval, won: false };
  const answer = answerFor(approval, verdict, by);
  const result = await ctx.store.approvals.resolve(id, answer);
  if (result.won) await wakeDaemon(ctx.paths.daemonSocket);
  return result;
}

/** For callers that report a lost race as a failure: the one-line reason. */
export function alreadyAnswered(approval: Approval): string {
  return `approval #${approval.id} is already ${describeResolution(approval)}`;
}
