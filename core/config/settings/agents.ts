/** Which agent runs a task, and how it is asked, allowed, budgeted and timed. */
import { AGENT_NAMES } from '../../domain.js';
import { DEFAULT_POLICY_TEXT } from '../../approvals/policy.js';
import * as t from '../value-types.js';
import type { Setting } from './setting.js';

const agents = AGENT_NAMES.join(', ');

export const AGENT_SETTINGS = [
  {
    key: 'KUGETSU_AGENT',
    field: 'agent',
    type: t.oneOf(AGENT_NAMES),
    default: 'opencode',
    doc: `Agent backend for issue work: ${agents} (see docs/agents.md).`,
  },
  {
    key: 'KUGETSU_AGENT_COMMAND',
    field: 'agentCommand',
    type: t.text(),
    expected: 'a shell command',
    doc: 'For KUGETSU_AGENT=command: run by `sh -c` in the worktree; the prompt arrives on stdin and in KUGETSU_MESSAGE.',
  },
  {
    key: 'KUGETSU_PM_AGENT',
    field: 'pmAgent',
    type: t.oneOf(AGENT_NAMES),
    doc: `Agent backend of the PM agent: ${agents} (default: KUGETSU_AGENT).`,
  },
  {
    key: 'KUGETSU_MODEL',
    field: 'model',
    type: t.matching(/^\S+$/, 'a model name without spaces'),
    doc: "Model for every backend (default: each agent's own choice); agents see it as KUGETSU_MODEL.",
  },
  {
    key: 'KUGETSU_CLAUDE_PERMISSION_MODE',
    field: 'claudePermissionMode',
    type: t.oneOf(['default', 'acceptEdits', 'plan', 'bypassPermissions']),
    doc: 'claude --permission-mode for every run (default: from KUGETSU_APPROVAL_POLICY, see docs/agents.md#claude-code). What claude asks about goes to kugetsu as an approval.',
  },
  {
    key: 'KUGETSU_CLAUDE_ALLOWED_TOOLS',
    field: 'claudeAllowedTools',
    type: t.toolRules(),
    default:
      'Bash(git add:*),Bash(git commit:*),Bash(git status:*),Bash(git diff:*),Bash(git log:*)',
    doc: 'Comma-separated claude --allowedTools rules, run without asking whatever KUGETSU_APPROVAL_POLICY says (so the agent can commit).',
  },
  {
    key: 'KUGETSU_CODEX_SANDBOX',
    field: 'codexSandbox',
    type: t.oneOf(['read-only', 'workspace-write', 'danger-full-access']),
    default: 'workspace-write',
    doc: "codex sandbox_mode for every run; the repository's git directory is always writable.",
  },
  {
    key: 'KUGETSU_APPROVAL_POLICY',
    field: 'approvalPolicy',
    type: t.approvalPolicy(),
    default: DEFAULT_POLICY_TEXT,
    doc: 'What agents may do without asking: comma-separated `[agent:]category=allow|ask|deny` rules, categories bash, edit (inside the worktree), outside (beyond it), network, other, question; the most specific rule wins. `ask` waits for an answer from the phone or `kugetsu approve`.',
  },
  {
    key: 'KUGETSU_APPROVAL_TIMEOUT',
    field: 'approvalTimeoutMs',
    type: t.duration(),
    default: '30m',
    doc: 'An approval nobody answers within this long is denied and the agent is told (a number of minutes, or with s, m or h).',
  },
  {
    key: 'KUGETSU_TASK_BUDGET',
    field: 'taskTokenBudget',
    type: t.tokenBudget(),
    default: '0',
    doc: 'Most tokens (input + output + cache writes) one task may use; a run that crosses it is stopped. 0: no limit.',
  },
  {
    key: 'KUGETSU_DAILY_BUDGET',
    field: 'dailyTokenBudget',
    type: t.tokenBudget(),
    default: '0',
    doc: 'Most tokens all tasks may use per UTC day; a run that crosses it is stopped, and none starts until the next day. 0: no limit.',
  },
  {
    key: 'KUGETSU_TASK_TIMEOUT_MINUTES',
    field: 'taskTimeoutMs',
    type: t.minutes(),
    default: '60',
    doc: 'A run longer than this is killed and counts as a failed attempt. Fractions allowed.',
  },
  {
    key: 'KUGETSU_STALL_TIMEOUT_MINUTES',
    field: 'stallTimeoutMs',
    type: t.minutes(),
    default: '10',
    doc: 'A run with no output for this long is stalled: asked about first (KUGETSU_STALL_GRACE_MINUTES), then killed as a failed attempt. Time spent waiting for an approval does not count.',
  },
  {
    key: 'KUGETSU_STALL_GRACE_MINUTES',
    field: 'stallGraceMs',
    type: t.minutes(),
    default: '5',
    doc: 'A stalled run is first asked about (Give more time / Stop); with no answer within this long it is stopped.',
  },
  {
    key: 'KUGETSU_STALL_EXTEND_MINUTES',
    field: 'stallExtendMs',
    type: t.minutes(),
    default: '10',
    doc: 'How much more time "Give more time" on a stall question gives the agent.',
  },
  {
    key: 'KUGETSU_MAX_ATTEMPTS',
    field: 'maxAttempts',
    type: t.wholeNumber({ min: 1, max: 1000 }),
    default: '3',
    doc: 'Attempts per task before it ends in error.',
  },
] as const satisfies readonly Setting[];
