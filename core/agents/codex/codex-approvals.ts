/**
 * codex's server requests (`item/commandExecution/requestApproval`, `item/fileChange/requestApproval`,
 * `item/tool/requestUserInput`, …) into kugetsu's approval requests, and kugetsu's answers into
 * the replies codex expects, pure. Types follow `codex app-server generate-ts` of codex 0.169.
 */
import type { ApprovalAnswer, ApprovalRequest, PolicyCategory } from '../../approvals/approval.js';
import { record, str } from '../agent-output.js';
import { patchDecision, patchTarget } from './codex-patches.js';
import { beyondSandbox, type AgentPolicy, type CodexApprovalPolicy } from './codex-policy.js';
import { unwrapShell } from './codex-shell.js';

/** What a server request needs beyond its own params. */
export interface RequestContext {
  worktree: string;
  approvalPolicy: CodexApprovalPolicy;
  policy: AgentPolicy;
  /** The paths of a `fileChange` item codex announced in `item/started`, by item id. */
  fileChanges: (itemId: string) => string[] | null;
}

/** What to do with one server request. */
export type RequestPlan =
  /** Ask each request through the gate, in order, then reply with `reply(answers)`. */
  | { kind: 'ask'; requests: ApprovalRequest[]; reply: (answers: ApprovalAnswer[]) => unknown }
  /** Reply at once, asking nobody; `note` says why in the transcript. */
  | { kind: 'reply'; result: unknown; note: string }
  /** Not something kugetsu can answer: a JSON-RPC error reply, never silence. */
  | { kind: 'refuse'; message: string };

export function planServerRequest(
  method: string,
  params: unknown,
  context: RequestContext,
): RequestPlan {
  const p = record(params);
  switch (method) {
    case 'item/commandExecution/requestApproval':
      return commandPlan(p, context);
    case 'item/fileChange/requestApproval':
      return fileChangePlan(p, context);
    case 'item/tool/requestUserInput':
      return userInputPlan(p);
    case 'item/permissions/requestApproval':
      return permissionsPlan(p, context);
    case 'mcpServer/elicitation/request':
      return elicitationPlan(p);
    case 'execCommandApproval':
      return legacyCommandPlan(p, context);
    case 'applyPatchApproval':
      return legacyPatchPlan(p, context);
    case 'item/tool/call':
      return { kind: 'refuse', message: 'kugetsu registers no dynamic tools' };
    case 'account/chatgptAuthTokens/refresh':
      return {
        kind: 'refuse',
        message: 'kugetsu does not hold ChatGPT tokens: run `codex login` in the codex home',
      };
    default:
      return { kind: 'refuse', message: `kugetsu does not handle ${method}` };
  }
}

// --- commands ---------------------------------------------------------------------------

function commandPlan(p: Record<string, unknown>, context: RequestContext): RequestPlan {
  const command = unwrapShell(str(p['command']) ?? '');
  const reason = nonEmpty(str(p['reason']));
  const network = record(p['networkApprovalContext']);
  const host = str(network['host']);
  const amendments = Array.isArray(p['proposedNetworkPolicyAmendments'])
    ? p['proposedNetworkPolicyAmendments']
    : [];
  let request: ApprovalRequest;
  if (host !== null || amendments.length > 0) {
    const hosts =
      host !== null
        ? [host]
        : amendments.map((a) => str(record(a)['host'])).filter((h): h is string => h !== null);
    request = permission('exec_command', 'network', hosts.join(', ') || command, reason);
  } else {
    request = permission(
      p['kind'] === 'writeStdin' ? 'write_stdin' : 'exec_command',
      commandCategory(reason, context),
      command,
      reason,
    );
  }
  const available = p['availableDecisions'];
  return {
    kind: 'ask',
    requests: [request],
    reply: ([answer]) => ({ decision: commandDecision(answer, available) }),
  };
}

/**
 * A plain command is asked only under `untrusted`, and without a reason; a request with a
 * reason (the model's justification for running it unsandboxed, or codex's "command failed;
 * retry without sandbox?") or any request under `on-request` is about leaving the sandbox.
 */
function commandCategory(reason: string | null, context: RequestContext): PolicyCategory {
  if (context.approvalPolicy === 'untrusted' && reason === null) return 'bash';
  return beyondSandbox(context.policy);
}

/** `accept`, `acceptForSession` (when codex offers it) or `decline`. */
export function commandDecision(
  answer: ApprovalAnswer | undefined,
  available: unknown,
): 'accept' | 'acceptForSession' | 'decline' {
  if (answer?.decision !== 'allow') return 'decline';
  if (answer.scope === 'task' && offers(available, 'acceptForSession')) return 'acceptForSession';
  // Without it the task's grant still answers the next request at once: kugetsu asks nobody.
  return 'accept';
}

function offers(available: unknown, decision: string): boolean {
  return !Array.isArray(available) || available.includes(decision);
}

// --- file changes -----------------------------------------------------------------------

function fileChangePlan(p: Record<string, unknown>, context: RequestContext): RequestPlan {
  const paths = context.fileChanges(str(p['itemId']) ?? '');
  const grantRoot = nonEmpty(str(p['grantRoot']));
  const request = patchRequest(paths, grantRoot, nonEmpty(str(p['reason'])), context.worktree);
  return {
    kind: 'ask',
    requests: [request],
    reply: ([answer]) => ({ decision: patchDecision(answer) }),
  };
}
function patchRequest(
  paths: string[] | null,
  grantRoot: string | null,
  reason: string | null,
  worktree: string,
): ApprovalRequest {
  const { category, subject } = patchTarget(paths, grantRoot, worktree);
  return permission('apply_patch', category, subject, reason);
}

// --- questions --------------------------------------------------------------------------

/** One question per request, asked in order; the reply maps each question's id to its answer. */
function userInputPlan(p: Record<string, unknown>): RequestPlan {
  const questions = (Array.isArray(p['questions']) ? p['questions'] : []).map(record);
  if (questions.length === 0) return { kind: 'reply', result: { answers: {} }, note: '' };
  return {
    kind: 'ask',
    requests: questions.map((q) => ({
      kind: 'question',
      tool: 'request_user_input',
      category: 'question',
      subject: str(q['question']) ?? str(q['header']) ?? 'a question',
      reason: null,
      options: (Array.isArray(q['options']) ? q['options'] : [])
        .map((o) => str(record(o)['label']))
        .filter((label): label is string => label !== null),
    })),
    reply: (answers) => ({
      answers: Object.fromEntries(
        questions.map((q, i) => [str(q['id']) ?? String(i), { answers: [answerText(answers[i])] }]),
      ),
    }),
  };
}

/** A question's answer, or what a refusal tells the agent (decide yourself, …). */
function answerText(answer: ApprovalAnswer | undefined): string {
  if (answer === undefined) return 'no answer';
  switch (answer.decision) {
    case 'answer':
      return answer.text;
    case 'deny':
      return answer.message;
    case 'allow':
      return 'yes';
  }
}

// --- extra permissions (`request_permissions`) ------------------------------------------

function permissionsPlan(p: Record<string, unknown>, context: RequestContext): RequestPlan {
  const wanted = record(p['permissions']);
  const fileSystem = record(wanted['fileSystem']);
  const paths = [
    ...stringList(fileSystem['write']).map((path) => `write ${path}`),
    ...stringList(fileSystem['read']).map((path) => `read ${path}`),
  ];
  const network = record(wanted['network'])['enabled'] === true;
  const category: PolicyCategory =
    paths.length === 0 ? 'network' : network ? beyondSandbox(context.policy) : 'outside';
  const subject = [...paths, ...(network ? ['the network'] : [])].join(', ') || 'more access';
  const granted: Record<string, unknown> = {};
  if (wanted['fileSystem'] !== null && wanted['fileSystem'] !== undefined)
    granted['fileSystem'] = wanted['fileSystem'];
  if (wanted['network'] !== null && wanted['network'] !== undefined)
    granted['network'] = wanted['network'];
  return {
    kind: 'ask',
    requests: [permission('request_permissions', category, subject, nonEmpty(str(p['reason'])))],
    reply: ([answer]) =>
      answer?.decision === 'allow'
        ? { permissions: granted, scope: answer.scope === 'task' ? 'session' : 'turn' }
        : { permissions: {}, scope: 'turn' },
  };
}

// --- MCP ----------------------------------------------------------------------------------

/**
 * codex asks before an MCP tool call with an elicitation marked `codex_approval_kind:
 * mcp_tool_call`: that is a permission (`other`). Any other elicitation wants a form filled
 * against a schema, which a chat reply cannot do faithfully: it is declined.
 */
function elicitationPlan(p: Record<string, unknown>): RequestPlan {
  const meta = record(p['_meta']);
  const server = str(p['serverName']) ?? 'an MCP server';
  const message = str(p['message']) ?? '';
  if (meta['codex_approval_kind'] !== 'mcp_tool_call') {
    return {
      kind: 'reply',
      result: { action: 'decline', content: null, _meta: null },
      note: `declined ${server}'s request for input (kugetsu answers only its tool approvals)`,
    };
  }
  const tool = str(meta['tool_name']) ?? str(meta['tool_title']) ?? 'a tool';
  return {
    kind: 'ask',
    requests: [permission(`mcp:${server}`, 'other', `${server}: ${tool}`, nonEmpty(message))],
    reply: ([answer]) =>
      answer?.decision === 'allow'
        ? { action: 'accept', content: {}, _meta: null }
        : { action: 'decline', content: null, _meta: null },
  };
}

// --- the v1 requests, for a codex that still sends them ------------------------------------

function legacyCommandPlan(p: Record<string, unknown>, context: RequestContext): RequestPlan {
  const argv = stringList(p['command']);
  const command =
    argv.length >= 3 &&
    /(?:^|\/)(?:ba|z|da)?sh$/.test(argv[0] ?? '') &&
    /^-l?c$/.test(argv[1] ?? '')
      ? argv.slice(2).join(' ')
      : argv.join(' ');
  const reason = nonEmpty(str(p['reason']));
  return {
    kind: 'ask',
    requests: [permission('exec_command', commandCategory(reason, context), command, reason)],
    reply: ([answer]) => ({ decision: reviewDecision(answer) }),
  };
}

function legacyPatchPlan(p: Record<string, unknown>, context: RequestContext): RequestPlan {
  const paths = Object.keys(record(p['fileChanges']));
  const request = patchRequest(
    paths,
    nonEmpty(str(p['grantRoot'])),
    nonEmpty(str(p['reason'])),
    context.worktree,
  );
  return {
    kind: 'ask',
    requests: [request],
    reply: ([answer]) => ({ decision: reviewDecision(answer) }),
  };
}

/** The v1 `ReviewDecision`, whose refusal carries what the agent is told. */
export function reviewDecision(answer: ApprovalAnswer | undefined): unknown {
  if (answer?.decision === 'allow')
    return answer.scope === 'task' ? 'approved_for_session' : 'approved';
  return { denied: { rejection: answer === undefined ? 'denied' : answerText(answer) } };
}

// --- helpers ------------------------------------------------------------------------------

function permission(
  tool: string,
  category: PolicyCategory,
  subject: string,
  reason: string | null,
): ApprovalRequest {
  return { kind: 'permission', tool, category, subject, reason, options: [] };
}

function nonEmpty(text: string | null): string | null {
  return text === null || text.trim() === '' ? null : text.trim();
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
