/**
 * kugetsu's approval vocabulary in opencode's permission terms, both ways (pure): the rules a run
 * gets from KUGETSU_APPROVAL_POLICY, the category of what opencode asks, and the reply to send.
 *
 * opencode evaluates a tool call against one ruleset, the last matching rule winning: its
 * defaults, then the config's `permission` (which OPENCODE_PERMISSION is merged into), then the
 * agent's own, then the session's. Two layers carry the policy:
 *   - the session's rules, appended last, so they win over anything in the user's config;
 *   - OPENCODE_PERMISSION for subagents (`task`), whose sessions inherit only the parent
 *     session's `deny` and `external_directory` rules but do read the config.
 */
import type { ApprovalAnswer, ApprovalRequest, PolicyCategory } from '../../approvals/approval.js';
import type { PolicyAction } from '../../approvals/policy.js';

export interface PermissionRule {
  permission: string;
  pattern: string;
  action: PolicyAction;
}

/** The opencode permissions each of kugetsu's categories stands for. */
const CATEGORY_PERMISSIONS = {
  bash: ['bash'],
  edit: ['edit'],
  outside: ['external_directory'],
  network: ['webfetch', 'websearch', 'codesearch'],
} as const satisfies Partial<Record<PolicyCategory, readonly string[]>>;

/**
 * Tools that only read, search or keep notes inside the worktree (or start a subagent whose own
 * tool calls are asked about): never a request. What lies outside the worktree is
 * `external_directory`, asked about first.
 */
const READING = ['read', 'glob', 'grep', 'list', 'lsp', 'todowrite', 'todoread', 'task', 'skill'];

/** opencode's own defaults ask before reading env files; kugetsu keeps that, as `other`. */
const ENV_FILES = ['*.env', '*.env.*'];

/** Switching to plan mode waits for a person in the TUI; unattended runs refuse it, as `opencode run` does. */
const PLAN_MODE = ['plan_enter', 'plan_exit'];

export interface RuleOptions {
  /** Directories outside the worktree the agent must write (the repository's git directory). */
  writableDirs: readonly string[];
  /** Commands that run without asking (the PM agent's `kugetsu`). */
  allowedCommands: readonly string[];
}

/**
 * The session's rules for this run. With `other` at ask or deny, a `*` rule comes first, so every
 * tool none of the rules after it name (an MCP server's, a plugin's) is asked about or refused.
 */
export function sessionRules(
  policy: Record<PolicyCategory, PolicyAction>,
  options: RuleOptions,
): PermissionRule[] {
  const rules: PermissionRule[] = [];
  const add = (permission: string, action: PolicyAction, pattern = '*'): void => {
    rules.push({ permission, pattern, action });
  };
  const catchAll = policy.other !== 'allow';
  if (catchAll) {
    add('*', policy.other);
    for (const permission of READING) add(permission, 'allow');
    for (const pattern of ENV_FILES) add('read', policy.other, pattern);
    add('read', 'allow', '*.env.example');
  }
  for (const category of ['bash', 'edit', 'outside', 'network'] as const) {
    // An allowed category keeps opencode's (and the user's) own rules, unless the `*` rule
    // above would otherwise make it ask: whatever it still asks, kugetsu's policy allows.
    if (policy[category] === 'allow' && !catchAll) continue;
    for (const permission of CATEGORY_PERMISSIONS[category]) add(permission, policy[category]);
  }
  for (const dir of options.writableDirs) {
    add('external_directory', 'allow', dir);
    add('external_directory', 'allow', `${dir}/*`);
  }
  for (const command of options.allowedCommands) {
    add('bash', 'allow', command);
    add('bash', 'allow', `${command} *`);
  }
  // The question tool is there to reach a person: on when kugetsu asks, off when it may not.
  add('question', policy.question === 'deny' ? 'deny' : 'allow');
  for (const permission of PLAN_MODE) add(permission, 'deny');
  return rules;
}

type ConfigValue = PolicyAction | Record<string, PolicyAction>;

/**
 * The `permission` object for OPENCODE_PERMISSION: what subagents must follow too. Only the
 * categories kugetsu asks about or refuses; opencode merges it over the user's `permission`.
 */
export function configPermission(
  policy: Record<PolicyCategory, PolicyAction>,
  options: Pick<RuleOptions, 'allowedCommands'>,
): Record<string, ConfigValue> {
  const config: Record<string, ConfigValue> = {};
  for (const category of ['bash', 'edit', 'network'] as const) {
    const action = policy[category];
    if (action === 'allow') continue;
    for (const permission of CATEGORY_PERMISSIONS[category]) config[permission] = action;
  }
  if (options.allowedCommands.length > 0 && policy.bash !== 'allow') {
    const bash: Record<string, PolicyAction> = { '*': policy.bash };
    for (const command of options.allowedCommands) {
      bash[command] = 'allow';
      bash[`${command} *`] = 'allow';
    }
    config['bash'] = bash;
  }
  if (policy.question === 'deny') config['question'] = 'deny';
  return config;
}

/**
 * OPENCODE_PERMISSION for the run: the user's own value (if it is a JSON object) with kugetsu's
 * keys over it.
 */
export function permissionEnv(
  userValue: string | undefined,
  ours: Record<string, ConfigValue>,
): string {
  let theirs: Record<string, unknown> = {};
  if (userValue !== undefined) {
    try {
      const parsed: unknown = JSON.parse(userValue);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        theirs = parsed as Record<string, unknown>;
    } catch {
      // opencode itself skips an invalid value with a warning; kugetsu's rules still apply.
    }
  }
  return JSON.stringify({ ...theirs, ...ours });
}

/**
 * What to append to a session's stored rules (opencode's update appends): nothing when they
 * already end with this run's rules, as a session continued under the same policy does.
 */
export function rulesToAppend(
  existing: readonly PermissionRule[] | undefined,
  ours: readonly PermissionRule[],
): PermissionRule[] {
  const have = existing ?? [];
  if (have.length < ours.length) return [...ours];
  const tail = have.slice(have.length - ours.length);
  const same = tail.every(
    (rule, i) =>
      rule.permission === ours[i]?.permission &&
      rule.pattern === ours[i]?.pattern &&
      rule.action === ours[i]?.action,
  );
  return same ? [] : [...ours];
}

/** The category of one of opencode's permissions. */
export function categoryOf(permission: string): PolicyCategory {
  for (const [category, permissions] of Object.entries(CATEGORY_PERMISSIONS)) {
    if ((permissions as readonly string[]).includes(permission)) return category as PolicyCategory;
  }
  return 'other';
}

/** opencode's `permission.asked` event, as far as kugetsu reads it. */
export interface PermissionAsked {
  id: string;
  sessionID: string;
  permission: string;
  patterns: string[];
  metadata: Record<string, unknown>;
  tool?: { messageID: string; callID: string };
}

/** opencode's `question.asked` event. */
export interface QuestionAsked {
  id: string;
  sessionID: string;
  questions: { question: string; header?: string; options?: { label: string }[] }[];
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : null;

/**
 * The request a permission event makes. `call` is the tool call that asks, when known: a
 * command's description is the agent's reason, and what reaches outside the worktree is named by
 * its tool.
 */
export function permissionRequest(
  asked: PermissionAsked,
  call: { tool: string; input: Record<string, unknown> } | null,
): ApprovalRequest {
  const meta = asked.metadata;
  const patterns = asked.patterns.join(', ');
  const category = categoryOf(asked.permission);
  let tool = asked.permission;
  let subject: string;
  let reason = text(call?.input['description']);
  switch (asked.permission) {
    case 'bash':
      subject = text(meta['command']) ?? patterns;
      break;
    case 'edit':
      subject = text(meta['filepath']) ?? patterns;
      break;
    case 'external_directory': {
      const dirs = Array.isArray(meta['directories'])
        ? meta['directories'].filter((d): d is string => typeof d === 'string')
        : [];
      subject = dirs.length > 0 ? dirs.join(', ') : patterns;
      tool = call?.tool ?? tool;
      // What reaches outside: the command or the file it is for.
      const what = text(meta['command']) ?? text(meta['filepath']);
      if (what !== null) reason = reason === null ? `for ${what}` : `${reason}: ${what}`;
      break;
    }
    case 'webfetch':
      subject = text(meta['url']) ?? patterns;
      break;
    case 'websearch':
    case 'codesearch':
      subject = text(meta['query']) ?? patterns;
      break;
    default:
      subject = patterns === '*' ? '' : patterns;
  }
  return { kind: 'permission', tool, category, subject, reason, options: [] };
}

/** The request a question event makes: every question, with the first one's offered answers. */
export function questionRequest(asked: QuestionAsked): ApprovalRequest {
  const questions = asked.questions.map((q) => q.question.trim()).filter((q) => q !== '');
  const first = asked.questions[0];
  return {
    kind: 'question',
    tool: 'question',
    category: 'question',
    subject: questions.join('\n'),
    reason: text(first?.header),
    options: (first?.options ?? []).map((o) => o.label).filter((l) => l.trim() !== ''),
  };
}

export interface PermissionReply {
  reply: 'once' | 'always' | 'reject';
  /** With `reject`: what the model is told; it goes on with it (without, opencode ends the turn). */
  message?: string;
}

export function permissionReply(answer: ApprovalAnswer): PermissionReply {
  switch (answer.decision) {
    case 'allow':
      return { reply: answer.scope === 'task' ? 'always' : 'once' };
    case 'deny':
      return { reply: 'reject', message: answer.message };
    case 'answer':
      // A permission has no text answer; the text is the person's word on it.
      return { reply: 'reject', message: answer.text };
  }
}

/**
 * The answers to a question, one list per question. A refusal is an answer too: opencode ends
 * the turn on a rejected question, where the model should hear why and decide itself.
 */
export function questionAnswers(asked: QuestionAsked, answer: ApprovalAnswer): string[][] {
  const said =
    answer.decision === 'answer'
      ? answer.text
      : answer.decision === 'deny'
        ? answer.message
        : (asked.questions[0]?.options?.[0]?.label ?? 'yes');
  return asked.questions.map(() => [said]);
}
