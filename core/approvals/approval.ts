/**
 * Approvals (DESIGN.md §9): an agent that needs a permission or an answer asks, kugetsu holds
 * it, and the first answer from any place (chat, CLI) reaches the waiting agent. Domain types
 * only; the store keeps the rows, `gate.ts` does the asking and waiting.
 */

/** `stall`: kugetsu itself asks whether a silent agent gets more time. */
export const APPROVAL_KINDS = ['permission', 'question', 'stall'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

export const APPROVAL_STATES = ['open', 'allowed', 'denied', 'answered', 'expired'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/**
 * What a permission is for, in one vocabulary for every agent: `edit` changes files inside the
 * worktree, `outside` reads or writes beyond it, `network` fetches or searches the web, `bash`
 * runs a command; `other` is any tool none of these describe.
 */
export const POLICY_CATEGORIES = [
  'bash',
  'edit',
  'outside',
  'network',
  'other',
  'question',
] as const;
export type PolicyCategory = (typeof POLICY_CATEGORIES)[number];

/** Where an answer came from; `kugetsu` is kugetsu itself (policy, a resumed agent, task end). */
export const ANSWER_CHANNELS = ['telegram', 'cli', 'api', 'timeout', 'kugetsu'] as const;
export type AnswerChannel = (typeof ANSWER_CHANNELS)[number];

/** What an agent asks, as its backend read it from the agent's own protocol. */
export interface ApprovalRequest {
  kind: ApprovalKind;
  /** The agent's own name for the tool (`Bash`, `edit`, `exec_command`). */
  tool: string;
  category: PolicyCategory;
  /** The command, path or URL asked about, or the question itself. */
  subject: string;
  /** Why the agent asks, in its words, when it says. */
  reason: string | null;
  /** A question's offered answers, if any. */
  options: string[];
}

export interface AnsweredBy {
  channel: AnswerChannel;
  /** A person (`@alice`, `root`) or what decided (`policy`, `the task ended`). */
  who: string;
}

export type ApprovalAnswer =
  | { decision: 'allow'; scope: 'once' | 'task'; by: AnsweredBy }
  /** `message` is what the agent is told. */
  | { decision: 'deny'; message: string; by: AnsweredBy }
  | { decision: 'answer'; text: string; by: AnsweredBy };

export interface Approval extends ApprovalRequest {
  id: number;
  taskId: number;
  issueRef: string | null;
  agent: string;
  state: ApprovalState;
  /** For `allowed`: whether the grant covers the rest of the task. */
  scope: 'once' | 'task' | null;
  /** A question's answer, or what a denial told the agent. */
  answer: string | null;
  answeredBy: AnsweredBy | null;
  createdAt: number;
  expiresAt: number;
  resolvedAt: number | null;
}

/** The answer a resolved row stands for; null while it is open. */
export function answerOf(approval: Approval): ApprovalAnswer | null {
  const by = approval.answeredBy ?? { channel: 'kugetsu', who: 'kugetsu' };
  switch (approval.state) {
    case 'open':
      return null;
    case 'allowed':
      return { decision: 'allow', scope: approval.scope ?? 'once', by };
    case 'answered':
      return { decision: 'answer', text: approval.answer ?? '', by };
    case 'denied':
    case 'expired':
      return { decision: 'deny', message: approval.answer ?? 'denied', by };
  }
}

/** "allowed once by @alice (telegram)": how a resolution reads in one line. */
export function describeResolution(approval: Approval): string {
  const by = approval.answeredBy;
  const who =
    by === null ? '' : ` by ${by.who}${by.channel === 'kugetsu' ? '' : ` (${by.channel})`}`;
  switch (approval.state) {
    case 'open':
      return 'waiting for an answer';
    case 'allowed':
      if (approval.kind === 'stall') return `given more time${who}`;
      return `${approval.scope === 'task' ? `allowed for the rest of task #${approval.taskId}` : 'allowed once'}${who}`;
    case 'answered':
      return `answered${who}`;
    case 'denied':
      return `${approval.kind === 'stall' ? 'stopped' : 'denied'}${who}`;
    case 'expired':
      return by?.channel === 'timeout'
        ? `no answer in time: ${approval.answer ?? 'denied'}`
        : `closed: ${approval.answer ?? 'no longer needed'}`;
  }
}

/** "wants to run", "wants to edit": what a permission is for, before its subject. */
export function requestAction(request: Pick<ApprovalRequest, 'tool' | 'category'>): string {
  switch (request.category) {
    case 'bash':
      return 'wants to run';
    case 'edit':
      return 'wants to edit';
    case 'outside':
      return `wants to use (${request.tool}) outside its worktree`;
    case 'network':
      return 'wants to fetch';
    default:
      return `wants to use ${request.tool}`;
  }
}

/** "wants to run npm test", "asks: which branch?": what is asked, for one-line displays. */
export function describeRequest(
  request: Pick<ApprovalRequest, 'kind' | 'tool' | 'category' | 'subject'>,
): string {
  if (request.kind === 'question') return `asks: ${request.subject}`;
  if (request.kind === 'stall') return request.subject;
  return request.subject === ''
    ? requestAction(request)
    : `${requestAction(request)} ${request.subject}`;
}
