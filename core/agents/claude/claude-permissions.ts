/**
 * claude's permission-prompt tool in kugetsu's words, as pure functions: what claude asks about
 * (`{tool_name, input}`) as approval requests, the answers as the JSON claude expects back, and
 * KUGETSU_APPROVAL_POLICY as claude's own flags. The MCP plumbing is in permission-server.ts.
 *
 * claude calls the tool only for what its own rules leave to ask (allowed tools and, under
 * acceptEdits, edits in the working directory never reach it) and reads the tool's text result
 * as `{"behavior":"allow","updatedInput":{…}}` or `{"behavior":"deny","message":"…"}`.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ApprovalAnswer, ApprovalRequest, PolicyCategory } from '../../approvals/approval.js';
import type { PolicyAction } from '../../approvals/policy.js';

/** The MCP server's name in claude's config, and the tool it serves. */
export const PERMISSION_SERVER_NAME = 'kugetsu';
export const PERMISSION_TOOL_NAME = 'approve';
/** What `--permission-prompt-tool` names: claude's `mcp__<server>__<tool>`. */
export const PERMISSION_PROMPT_TOOL = `mcp__${PERMISSION_SERVER_NAME}__${PERMISSION_TOOL_NAME}`;

const EDIT_TOOLS = ['Edit', 'Write', 'MultiEdit', 'NotebookEdit'];
const READ_TOOLS = ['Read', 'Glob', 'Grep', 'LS', 'NotebookRead'];
const NETWORK_TOOLS = ['WebFetch', 'WebSearch'];
const QUESTION_TOOL = 'AskUserQuestion';

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

export interface ClaudePermissionSettings {
  policy: Readonly<Record<PolicyCategory, PolicyAction>>;
  /** KUGETSU_CLAUDE_PERMISSION_MODE; null: follow the policy. */
  permissionMode: string | null;
  /** KUGETSU_CLAUDE_ALLOWED_TOOLS: the user's own allow rules, always passed. */
  allowedTools: readonly string[];
  /** Commands allowed whatever the policy (the PM agent's `kugetsu`). */
  allowedCommands: readonly string[];
  /** Whether claude's prompts go to kugetsu's permission tool (else claude refuses them). */
  asksKugetsu: boolean;
}

export interface ClaudePermissionFlags {
  permissionMode: string;
  allowedTools: string[];
  disallowedTools: string[];
}

/**
 * claude's permission mode for a policy. `acceptEdits` makes edits in the worktree without
 * asking, but also every command claude judges to change files there only (`touch`, `rm`,
 * `mv`, `cp`, `sed -i`, `>` redirections): so when claude asks kugetsu, it runs in `default`
 * mode unless commands are allowed anyway, and the gate answers its edit prompts from the
 * policy. Without kugetsu to ask, `acceptEdits` is what lets an `edit=allow` run edit at all.
 */
export function permissionModeFor(
  policy: Readonly<Record<PolicyCategory, PolicyAction>>,
  override: string | null,
  asksKugetsu: boolean,
): string {
  if (override !== null) return override;
  if (policy.edit !== 'allow') return 'default';
  return !asksKugetsu || policy.bash === 'allow' ? 'acceptEdits' : 'default';
}

/**
 * The policy as claude's own flags: what is `allow` claude does without asking, what is `deny`
 * it refuses itself where a tool belongs to that category alone, and the rest reaches the
 * permission-prompt tool, where kugetsu's gate applies the policy again to every request.
 */
export function claudePermissionFlags(settings: ClaudePermissionSettings): ClaudePermissionFlags {
  const { policy } = settings;
  const allowed = [
    ...settings.allowedTools,
    ...settings.allowedCommands.map((c) => `Bash(${c}:*)`),
  ];
  const disallowed: string[] = [];
  if (policy.bash === 'allow') allowed.push('Bash');
  // Refusing Bash outright would take the allowed commands with it (claude's deny rules win):
  // with any, the gate refuses the other commands instead.
  if (policy.bash === 'deny' && !allowed.some((rule) => rule.startsWith('Bash(')))
    disallowed.push('Bash');
  if (policy.network === 'allow') allowed.push(...NETWORK_TOOLS);
  if (policy.network === 'deny') disallowed.push(...NETWORK_TOOLS);
  // claude has no rule for "outside the worktree": reads anywhere are `outside` (reads inside
  // are never asked), edits anywhere only when edits inside are allowed too.
  if (policy.outside === 'allow') {
    allowed.push('Read', 'Glob', 'Grep');
    if (policy.edit === 'allow') allowed.push(...EDIT_TOOLS);
  }
  if (policy.outside === 'deny' && policy.edit === 'deny') disallowed.push(...EDIT_TOOLS);
  if (policy.question === 'deny') disallowed.push(QUESTION_TOOL);
  return {
    permissionMode: permissionModeFor(policy, settings.permissionMode, settings.asksKugetsu),
    allowedTools: [...new Set(allowed)],
    disallowedTools: disallowed,
  };
}

/** The `--mcp-config` document that starts kugetsu's permission server. */
export function permissionServerConfig(server: {
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
}): string {
  return JSON.stringify({
    mcpServers: {
      [PERMISSION_SERVER_NAME]: {
        type: 'stdio',
        command: server.command,
        args: server.args,
        env: server.env,
        // claude's per-call limit; the longest it takes. KUGETSU_APPROVAL_TIMEOUT decides.
        timeout: 2 ** 31 - 1,
      },
    },
  });
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

/** The path relative to the first root it lies in ('' for a root itself), or null. */
export function insidePath(path: string, roots: readonly string[]): string | null {
  for (const root of roots) {
    const rel = relative(resolve(root), resolve(root, path));
    if (rel === '') return '.';
    if (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return rel;
  }
  return null;
}

/** A few of the names claude guards even where it accepts edits (its list is longer). */
const PROTECTED_DIRS = new Set(['.git', '.claude', '.vscode', '.idea', '.husky', '.devcontainer']);
const PROTECTED_FILES = new Set([
  '.mcp.json',
  '.claude.json',
  '.gitconfig',
  '.gitmodules',
  '.envrc',
  '.npmrc',
  '.bashrc',
  '.bash_profile',
  '.profile',
  '.zshrc',
  '.zprofile',
  '.zshenv',
]);

function isProtected(relativePath: string): boolean {
  const parts = relativePath.split(sep);
  const name = parts[parts.length - 1] ?? '';
  return (
    parts.slice(0, -1).some((p) => PROTECTED_DIRS.has(p)) ||
    PROTECTED_DIRS.has(name) ||
    PROTECTED_FILES.has(name.toLowerCase())
  );
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
