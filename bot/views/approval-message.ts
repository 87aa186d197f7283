/**
 * How an approval looks on a phone: the request with its buttons while it is open, and the
 * same message, buttons gone, saying who answered once it is resolved. Pure.
 */
import { describeResolution, requestAction, type Approval } from '../../core/approvals/approval.js';
import type { Button } from './event-message.js';
import { TELEGRAM_TEXT_LIMIT, escapeHtml, formatDuration, truncate } from './format.js';

export const APPROVAL_VERBS = ['once', 'task', 'deny'] as const;
export type ApprovalVerb = (typeof APPROVAL_VERBS)[number];

/** `approval:once:12`, or `approval:pick2:12` for a question's third offered answer. */
export function encodeApprovalButton(verb: ApprovalVerb | `pick${number}`, id: number): string {
  return `approval:${verb}:${id}`;
}

export type ApprovalPress =
  { verb: ApprovalVerb; id: number } | { verb: 'pick'; option: number; id: number };

export const APPROVAL_BUTTON = /^approval:(once|task|deny|pick[0-9])(?::([0-9]{1,12}))$/;

export function decodeApprovalButton(data: string): ApprovalPress | null {
  const match = APPROVAL_BUTTON.exec(data);
  if (match === null) return null;
  const verb = match[1] ?? '';
  const id = Number(match[2]);
  if (verb.startsWith('pick')) return { verb: 'pick', option: Number(verb.slice(4)), id };
  return { verb: verb as ApprovalVerb, id };
}

const ICON = { permission: '🔐', question: '❓', stall: '⏸' } as const;
const MAX_SUBJECT = 1_500;

export interface ApprovalView {
  html: string;
  buttons: Button[][];
}

/** The request as first pushed; `stallExtendMs` names what "Give more time" gives. */
export function approvalRequestView(
  approval: Approval,
  stallExtendMs: number,
  now: number,
): ApprovalView {
  return { html: requestHtml(approval, now), buttons: approvalButtons(approval, stallExtendMs) };
}

/** The request once answered: the same text, the outcome under it, no buttons. */
export function approvalResolvedView(approval: Approval, now: number): ApprovalView {
  const outcome = approval.state === 'allowed' || approval.state === 'answered' ? '✅' : '🚫';
  const answer =
    approval.state === 'answered' && approval.answer !== null
      ? `\n<i>${escapeHtml(truncate(approval.answer, 500))}</i>`
      : '';
  return {
    html: fit(
      `${requestHtml(approval, now)}\n\n${outcome} <b>${escapeHtml(describeResolution(approval))}</b>${answer}`,
    ),
    buttons: [],
  };
}

function requestHtml(approval: Approval, now: number): string {
  const target = approval.issueRef ?? 'PM agent';
  const head =
    approval.kind === 'question'
      ? 'asks you'
      : approval.kind === 'stall'
        ? 'seems stuck'
        : 'asks for permission';
  const lines = [
    `${ICON[approval.kind]} <b>${head}</b> · <code>${escapeHtml(target)}</code>`,
    `#${approval.taskId} · ${escapeHtml(approval.agent)} · approval #${approval.id}`,
  ];
  if (approval.kind === 'permission') {
    lines.push(`${escapeHtml(requestAction(approval))}:`);
    lines.push(`<pre>${escapeHtml(truncate(approval.subject, MAX_SUBJECT))}</pre>`);
  } else {
    lines.push(`<b>${escapeHtml(truncate(approval.subject, MAX_SUBJECT))}</b>`);
  }
  if (approval.reason !== null && approval.reason !== '')
    lines.push(`<i>${escapeHtml(truncate(approval.reason, 500))}</i>`);
  if (approval.state === 'open') {
    if (approval.kind === 'question') lines.push('Reply to this message to answer.');
    lines.push(
      `<i>Unanswered in ${formatDuration(Math.max(0, approval.expiresAt - now))}: ${approval.kind === 'stall' ? 'stopped' : 'denied'}.</i>`,
    );
  }
  return fit(lines.join('\n'));
}

function approvalButtons(approval: Approval, stallExtendMs: number): Button[][] {
  const button = (text: string, verb: ApprovalVerb | `pick${number}`): Button => ({
    text,
    data: encodeApprovalButton(verb, approval.id),
  });
  switch (approval.kind) {
    case 'permission':
      return [
        [button('Allow once', 'once'), button('Allow for this task', 'task')],
        [button('Deny', 'deny')],
      ];
    case 'stall':
      return [[button(`Give ${moreTime(stallExtendMs)}`, 'once'), button('Stop', 'deny')]];
    case 'question':
      return [
        ...approval.options
          .slice(0, 10)
          .map((option, i) => [button(truncate(option, 60), `pick${i}`)]),
        [button('Let the agent decide', 'deny')],
      ];
  }
}

/** "10 more minutes", or "1m 30s more" for what is not whole minutes. */
function moreTime(ms: number): string {
  const minutes = ms / 60_000;
  if (Number.isInteger(minutes)) return `${minutes} more minute${minutes === 1 ? '' : 's'}`;
  return `${formatDuration(ms)} more`;
}

/** Within Telegram's limit without cutting through an HTML tag: the subject block goes first. */
function fit(html: string): string {
  if (html.length <= TELEGRAM_TEXT_LIMIT) return html;
  return html
    .replace(/<pre>[\s\S]*<\/pre>/, '<pre>(too long to show: kugetsu approvals)</pre>')
    .slice(0, TELEGRAM_TEXT_LIMIT);
}
