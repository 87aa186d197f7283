/**
 * claude's permission-prompt tool in kugetsu's words, as pure functions: what claude asks about
 * (`{tool_name, input}`) as approval requests, and the answers as the JSON claude expects
 * back. The policy as claude's flags is in claude-policy.ts, the MCP plumbing in permission-server.ts.
 *
 * claude calls the tool only for what its own rules leave to ask (allowed tools and, under
 * acceptEdits, edits in the working directory never reach it) and reads the tool's text result
 * as `{"behavior":"allow","updatedInput":{…}}` or `{"behavior":"deny","message":"…"}`.
 */
import { isAbsolute } from 'node:path';
import type { ApprovalAnswer, ApprovalRequest, PolicyCategory } from '../../approvals/approval.js';
import { insidePath, isProtected } from './claude-paths.js';
import { EDIT_TOOLS, NETWORK_TOOLS, QUESTION_TOOL, READ_TOOLS } from './claude-policy.js';

/** The permission modes in which claude makes edits in its working directory without asking. */
const EDITS_ACCEPTED = new Set(['acceptEdits', 'bypassPermissions']);

/** One of claude's AskUserQuestion questions, as claude sent it and as kugetsu asks it. */
export interface ClaudeQuestion {
  /** claude's own text: the key of its answer. */
  question: string;
  request: ApprovalRequest;
}

export type ClaudeAsk =
  | { kind: 'permission'; request: ApprovalRequest }
  /** AskUserQuestion carries one to four questions: each is asked in turn. */
  | { kind: 'questions'; questions: ClaudeQuestion[] };

export type ClaudePermissionResult =
  | { behavior: 'allow'; updatedInput: Record<string, unknown> }
  | { behavior: 'deny'; message: string };

export interface AskContext {
  /** The worktree, as given and as its real path: claude reports paths either way. */
  roots: readonly string[];
  /** claude's permission mode for this run (see permissionModeFor). */
  permissionMode: string;
}

/** What claude asks about, as kugetsu requests. Never throws on odd input: it becomes `other`. */
export function claudeAsk(
  toolName: string,
  input: Record<string, unknown>,
  context: AskContext,
): ClaudeAsk {
  const permission = (
    category: PolicyCategory,
    subject: string,
    reason: string | null = null,
  ): ClaudeAsk => ({
    kind: 'permission',
    request: { kind: 'permission', tool: toolName, category, subject, reason, options: [] },
  });

  if (toolName === QUESTION_TOOL) {
    const questions = questionsOf(input);
    if (questions.length > 0) return { kind: 'questions', questions };
    return permission('other', compact(input));
  }
  if (toolName === 'Bash') {
    return permission('bash', text(input['command']) ?? compact(input), text(input['description']));
  }
  if (NETWORK_TOOLS.includes(toolName)) {
    return permission(
      'network',
      text(input['url']) ?? text(input['query']) ?? compact(input),
      text(input['prompt']),
    );
  }
  if (EDIT_TOOLS.includes(toolName)) {
    const path = text(input['file_path']) ?? text(input['notebook_path']);
    if (path === null) return permission('other', compact(input));
    const inside = insidePath(path, context.roots);
    if (inside === null) return permission('outside', path);
    // Under acceptEdits claude edits its worktree by itself, so an edit inside it that still
    // reaches kugetsu is one of claude's protected files (.claude/, .git/, .mcp.json, shell
    // profiles…): what claude may do on later runs, never an ordinary edit `edit=allow` covers.
    if (EDITS_ACCEPTED.has(context.permissionMode) || isProtected(inside))
      return permission(
        'outside',
        inside,
        'claude protects this file: it configures claude or the tools run in this repository',
      );
    return permission('edit', inside);
  }
  if (READ_TOOLS.includes(toolName)) {
    const path = text(input['file_path']) ?? text(input['notebook_path']) ?? text(input['path']);
    // Grep's pattern is a regular expression; Glob's may be an absolute path.
    const pattern = toolName === 'Glob' ? text(input['pattern']) : null;
    const target = path ?? (pattern !== null && isAbsolute(pattern) ? pattern : null);
    if (target !== null && insidePath(target, context.roots) === null)
      return permission(
        'outside',
        pattern !== null && path !== null ? `${path} (${pattern})` : target,
      );
    return permission('other', target ?? pattern ?? compact(input));
  }
  return permission('other', summary(input), text(input['description']));
}

/** claude's reply to a permission: the input as it was when allowed, the message when not. */
export function permissionResult(
  input: Record<string, unknown>,
  answer: ApprovalAnswer,
): ClaudePermissionResult {
  switch (answer.decision) {
    case 'allow':
      return { behavior: 'allow', updatedInput: input };
    case 'deny':
      return { behavior: 'deny', message: answer.message };
    case 'answer':
      // A text answer to a permission is not a yes: the agent reads what was said instead.
      return { behavior: 'deny', message: `not allowed; the user says: ${answer.text}` };
  }
}

/**
 * claude's reply to AskUserQuestion: allowed with `answers` (question text → answer) in the
 * input, which claude hands the model as "Your questions have been answered: …". Any question
 * not answered with text makes the whole reply a denial with that answer's message.
 */
export function questionsResult(
  input: Record<string, unknown>,
  answered: readonly { question: string; answer: ApprovalAnswer }[],
): ClaudePermissionResult {
  const answers: Record<string, string> = {};
  for (const { question, answer } of answered) {
    if (answer.decision === 'deny') return { behavior: 'deny', message: answer.message };
    if (answer.decision !== 'answer')
      return { behavior: 'deny', message: 'the question was not answered: decide yourself' };
    answers[question] = answer.text;
  }
  const earlier = isRecord(input['answers']) ? input['answers'] : {};
  return { behavior: 'allow', updatedInput: { ...input, answers: { ...earlier, ...answers } } };
}

function questionsOf(input: Record<string, unknown>): ClaudeQuestion[] {
  const list = Array.isArray(input['questions']) ? input['questions'] : [];
  const out: ClaudeQuestion[] = [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    const question = text(item['question']);
    if (question === null) continue;
    const options = (Array.isArray(item['options']) ? item['options'] : [])
      .filter(isRecord)
      .map((o) => ({ label: text(o['label']), description: text(o['description']) }))
      .filter((o): o is { label: string; description: string | null } => o.label !== null);
    const described = options
      .filter((o) => o.description !== null)
      .map((o) => `${o.label}: ${o.description ?? ''}`);
    const multi = item['multiSelect'] === true ? 'more than one may be chosen' : null;
    const reason = [described.join(' · '), multi].filter((p) => p !== null && p !== '').join('; ');
    out.push({
      question,
      request: {
        kind: 'question',
        tool: QUESTION_TOOL,
        category: 'question',
        subject: question,
        reason: reason === '' ? null : reason,
        options: options.map((o) => o.label),
      },
    });
  }
  return out;
}

/** The one string that says what a tool is asked to do, else its input as compact JSON. */
function summary(input: Record<string, unknown>): string {
  for (const key of ['command', 'file_path', 'path', 'url', 'query', 'plan', 'prompt', 'pattern']) {
    const value = text(input[key]);
    if (value !== null) return value;
  }
  return compact(input);
}

function compact(input: Record<string, unknown>): string {
  try {
    return JSON.stringify(input) ?? '';
  } catch {
    return '';
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
