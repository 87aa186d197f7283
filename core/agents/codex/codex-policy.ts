/**
 * KUGETSU_APPROVAL_POLICY in codex's own settings: its approval policy, the sandbox's network,
 * web search and the question tool. Types follow `codex app-server generate-ts` of codex 0.169.
 */
import type { PolicyCategory } from '../../approvals/approval.js';
import type { PolicyAction } from '../../approvals/policy.js';

/** codex's `AskForApproval` values kugetsu uses. */
export type CodexApprovalPolicy = 'untrusted' | 'on-request' | 'never';

export type AgentPolicy = Record<PolicyCategory, PolicyAction>;

/**
 * Under `untrusted` codex asks before every command it does not know to be read-only, and
 * before every patch; under `on-request` commands and patches inside the writable roots run in
 * the sandbox unasked, and codex asks only to go beyond it (a command the model wants run
 * unsandboxed, a patch outside the worktree); under `never` it asks nothing and its sandbox
 * refuses what lies beyond.
 *
 * `untrusted` is the only way codex asks about every command, so `bash` ask (or deny, answered
 * at once by the gate) needs it. An approved command, though, is one codex will re-run outside
 * its sandbox if the sandbox refuses it, without asking again: with `bash` allowed, answering
 * every command "yes" under `untrusted` would let any of them write outside the worktree
 * unattended. So allowed commands run under `on-request`, in the sandbox, and only what goes
 * beyond it is asked (as `outside`/`network`); when both of those are denied there is nothing
 * left to ask, and `never` has codex refuse them itself.
 */
export function codexApprovalPolicy(policy: AgentPolicy): CodexApprovalPolicy {
  if (policy.bash !== 'allow') return 'untrusted';
  if (policy.outside === 'deny' && policy.network === 'deny') return 'never';
  return 'on-request';
}

/** The codex question tool works outside Plan mode only with this (under-development) feature. */
export const QUESTION_FEATURE = 'default_mode_request_user_input';

/**
 * `codex app-server` options for the rest of the policy: the sandbox's network follows
 * `network` (allowed: commands reach it; otherwise a command needs the network only through an
 * asked escalation), web search — which codex never asks about — only when `network` is
 * allowed, and the question tool when questions are asked.
 */
export function policyArgs(policy: AgentPolicy): string[] {
  const args = [
    '-c',
    `sandbox_workspace_write.network_access=${policy.network === 'allow' ? 'true' : 'false'}`,
  ];
  if (policy.network !== 'allow') args.push('-c', 'web_search="disabled"');
  if (policy.question === 'ask') {
    args.push('--enable', QUESTION_FEATURE, '-c', 'suppress_unstable_features_warning=true');
  }
  return args;
}

/**
 * Outside the sandbox a command may write anywhere and reach the network: it is asked under
 * whichever of `outside` and `network` the policy holds tighter.
 */
export function beyondSandbox(policy: AgentPolicy): 'outside' | 'network' {
  const weight: Record<PolicyAction, number> = { allow: 0, ask: 1, deny: 2 };
  return weight[policy.network] > weight[policy.outside] ? 'network' : 'outside';
}
