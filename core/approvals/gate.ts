/**
 * The gate an agent's requests pass through: a grant or the policy answers at once; otherwise the
 * request becomes an open row (pushed to the phone, listed by `kugetsu approvals`) and the agent
 * waits until the first answer, or until the timeout denies it. Used inside the daemon (drivers
 * of stdio and HTTP protocols) and from the MCP server claude starts, which has a store of its
 * own: the row is the only shared state, so the gate polls it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ApprovalRecordsApi } from '../store/store-interface.js';
import {
  answerOf,
  describeRequest,
  describeResolution,
  type Approval,
  type ApprovalAnswer,
  type ApprovalRequest,
} from './approval.js';
import { decide, type ApprovalPolicy } from './policy.js';

/** A person answers in seconds; a quarter second of delay is not felt, and a row read is cheap. */
const POLL_MS = 250;
const MAX_SUBJECT = 2_000;
const MAX_REASON = 1_000;
const MAX_OPTIONS = 10;

/** The approval rows a gate reads and writes. */
export type GateRecords = Pick<ApprovalRecordsApi, 'open' | 'get' | 'resolve' | 'grants'>;

export interface GateOptions {
  approvals: GateRecords;
  taskId: number;
  agent: string;
  policy: ApprovalPolicy;
  /** KUGETSU_APPROVAL_TIMEOUT: an open request older than this is denied. */
  timeoutMs: number;
  /** A row was written: push it now (the daemon's notifier, or a wake-up over its socket). */
  announce: () => void;
  scrub: (text: string) => string;
  /** A transcript line about each decision. */
  note?: (line: string) => void;
  pollMs?: number;
  now?: () => number;
}

export interface AskOptions {
  signal?: AbortSignal;
  /** Overrides the gate's timeout (a stall question waits for its grace period only). */
  timeoutMs?: number;
  /** What the agent (or the stall check) is told when nobody answered in time. */
  timeoutMessage?: string;
  /** Called once the request is an open row (not when policy or a grant answered it). */
  onOpened?: (approval: Approval) => void;
}

export interface ApprovalGate {
  ask(request: ApprovalRequest, options?: AskOptions): Promise<ApprovalAnswer>;
}

export function approvalGate(options: GateOptions): ApprovalGate {
  const { approvals, taskId } = options;
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? POLL_MS;
  const note = options.note ?? (() => undefined);

  return {
    async ask(request, askOptions = {}) {
      const decided = decide(
        options.policy,
        options.agent,
        request,
        await approvals.grants(taskId),
      );
      if (decided.decision !== 'ask') {
        note(
          `${describeRequest(request)}: ${decided.decision === 'allow' ? 'allowed' : 'denied'} (${decided.why})`,
        );
        const by = { channel: 'kugetsu' as const, who: 'policy' };
        return decided.decision === 'allow'
          ? { decision: 'allow', scope: 'once', by }
          : { decision: 'deny', message: decided.why, by };
      }
      const timeoutMs = askOptions.timeoutMs ?? options.timeoutMs;
      const approval = await approvals.open(
        taskId,
        options.agent,
        cleanRequest(request, options.scrub),
        now() + timeoutMs,
        now(),
      );
      note(`approval #${approval.id}: ${describeRequest(approval)}; waiting for an answer`);
      askOptions.onOpened?.(approval);
      options.announce();
      const resolved = await waitForAnswer(approval, {
        approvals,
        pollMs,
        now,
        signal: askOptions.signal,
        timeoutMessage:
          askOptions.timeoutMessage ??
          `no answer within ${formatDuration(timeoutMs)} (KUGETSU_APPROVAL_TIMEOUT): denied`,
        announce: options.announce,
      });
      note(`approval #${approval.id}: ${describeResolution(resolved)}`);
      return (
        answerOf(resolved) ?? {
          decision: 'deny',
          message: 'the run was stopped',
          by: { channel: 'kugetsu', who: 'kugetsu' },
        }
      );
    },
  };
}

async function waitForAnswer(
  approval: Approval,
  w: {
    approvals: GateRecords;
    pollMs: number;
    now: () => number;
    signal: AbortSignal | undefined;
    timeoutMessage: string;
    announce: () => void;
  },
): Promise<Approval> {
  for (;;) {
    const current = await w.approvals.get(approval.id);
    // Deleted with its task, or answered: either way the wait is over.
    if (current === null) return { ...approval, state: 'expired', answer: 'the task is gone' };
    if (current.state !== 'open') return current;
    if (w.signal?.aborted === true) return current;
    if (w.now() >= current.expiresAt) {
      // Another answer may land in the same instant: resolve() keeps whichever came first.
      const { approval: settled } = await w.approvals.resolve(approval.id, {
        decision: 'deny',
        message: w.timeoutMessage,
        by: { channel: 'timeout', who: 'timeout' },
      });
      w.announce();
      return settled;
    }
    await delay(Math.min(w.pollMs, Math.max(1, current.expiresAt - w.now())), undefined, {
      signal: w.signal,
    }).catch(() => undefined);
  }
}

function cleanRequest(request: ApprovalRequest, scrub: (text: string) => string): ApprovalRequest {
  const cut = (text: string, max: number): string => {
    // eslint-disable-next-line no-control-regex -- NUL and other controls have no place in a push
    const clean = scrub(text).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
    return clean.length > max ? `${clean.slice(0, max)}…` : clean;
  };
  return {
    ...request,
    tool: cut(request.tool, 100),
    subject: cut(request.subject, MAX_SUBJECT),
    reason: request.reason === null ? null : cut(request.reason, MAX_REASON),
    options: request.options.slice(0, MAX_OPTIONS).map((o) => cut(o, 200)),
  };
}

function formatDuration(ms: number): string {
  return ms >= 60_000 ? `${+(ms / 60_000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`;
}
