/**
 * KUGETSU_APPROVAL_POLICY as claude's own flags (permission mode, allowed and disallowed
 * tools), and the `--mcp-config` that puts kugetsu's permission tool in front of claude.
 */
import type { PolicyCategory } from '../../approvals/approval.js';
import type { PolicyAction } from '../../approvals/policy.js';

/** The MCP server's name in claude's config, and the tool it serves. */
export const PERMISSION_SERVER_NAME = 'kugetsu';
export const PERMISSION_TOOL_NAME = 'approve';
/** What `--permission-prompt-tool` names: claude's `mcp__<server>__<tool>`. */
export const PERMISSION_PROMPT_TOOL = `mcp__${PERMISSION_SERVER_NAME}__${PERMISSION_TOOL_NAME}`;

export const EDIT_TOOLS = ['Edit', 'Write', 'MultiEdit', 'NotebookEdit'];
export const READ_TOOLS = ['Read', 'Glob', 'Grep', 'LS', 'NotebookRead'];
export const NETWORK_TOOLS = ['WebFetch', 'WebSearch'];
export const QUESTION_TOOL = 'AskUserQuestion';

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
