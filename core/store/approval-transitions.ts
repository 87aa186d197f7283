/**
 * How an answer moves an approval row on, and what the events about it carry: pure, so every
 * store implementation writes the same row and the same event data for the same answer.
 */
import {
  describeRequest,
  describeResolution,
  type AnsweredBy,
  type Approval,
  type ApprovalAnswer,
  type ApprovalRequest,
  type ApprovalState,
} from '../approvals/approval.js';
import type { EventData } from '../domain.js';

/** The columns an answer writes. */
export interface ApprovalResolution {
  state: ApprovalState;
  /** For `allowed`: whether the grant covers the rest of the task. */
  scope: 'once' | 'task' | null;
  /** A question's answer, or what a denial told the agent. */
  answer: string | null;
  by: AnsweredBy;
}

/** The row an answer leaves. A denial by the timeout or by kugetsu itself is an expiry. */
export function resolutionOf(answer: ApprovalAnswer): ApprovalResolution {
  switch (answer.decision) {
    case 'allow':
      return { state: 'allowed', scope: answer.scope, answer: null, by: answer.by };
    case 'answer':
      return { state: 'answered', scope: null, answer: answer.text, by: answer.by };
    case 'deny':
      return {
        state:
          answer.by.channel === 'timeout' || answer.by.channel === 'kugetsu' ? 'expired' : 'denied',
        scope: null,
        answer: answer.message,
        by: answer.by,
      };
  }
}

/** What closes a request nothing waits for any more (its attempt ended): kugetsu's own denial. */
export function closingAnswer(reason: string): ApprovalAnswer {
  return { decision: 'deny', message: reason, by: { channel: 'kugetsu', who: 'kugetsu' } };
}

/** `approval_requested`'s data. */
export function requestedEventData(approvalId: number, request: ApprovalRequest): EventData {
  return { approvalId, summary: `${describeRequest(request)} (approval #${approvalId})` };
}

/** `approval_resolved`'s data, for the row as the answer left it. */
export function resolvedEventData(resolved: Approval): EventData {
  return {
    approvalId: resolved.id,
    summary: `approval #${resolved.id} ${describeResolution(resolved)}`,
  };
}
