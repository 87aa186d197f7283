/**
 * KUGETSU_APPROVAL_POLICY: per agent and per category, `allow`, `ask` or `deny`. A rule is
 * `[agent:]category=action`, comma-separated; the most specific rule wins (agent and category,
 * then agent and `*`, then category, then `*`). Pure.
 */
import { AGENT_NAMES } from '../domain.js';
import { POLICY_CATEGORIES, type ApprovalRequest, type PolicyCategory } from './approval.js';

export const POLICY_ACTIONS = ['allow', 'ask', 'deny'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export interface PolicyRule {
  agent: string | null;
  category: PolicyCategory | '*';
  action: PolicyAction;
}

export interface ApprovalPolicy {
  rules: readonly PolicyRule[];
}

/** Edits inside the worktree run unattended; anything else waits for a person. */
export const DEFAULT_POLICY_TEXT =
  'edit=allow,bash=ask,outside=ask,network=ask,other=ask,question=ask';

/** Parses the setting; throws an Error naming the first bad rule. */
export function parsePolicy(text: string): ApprovalPolicy {
  const rules: PolicyRule[] = [];
  for (const raw of text.split(',')) {
    const rule = raw.trim();
    if (rule === '') continue;
    const match = /^(?:([a-z]+):)?([a-z*]+)=([a-z]+)$/.exec(rule);
    if (match === null)
      throw new Error(`rule ${JSON.stringify(rule)} is not [agent:]category=action`);
    const [, agent, category, action] = match;
    if (agent !== undefined && !(AGENT_NAMES as readonly string[]).includes(agent))
      throw new Error(`rule ${JSON.stringify(rule)} names no agent (${AGENT_NAMES.join(', ')})`);
    if (category !== '*' && !(POLICY_CATEGORIES as readonly string[]).includes(category ?? ''))
      throw new Error(
        `rule ${JSON.stringify(rule)} names no category (${POLICY_CATEGORIES.join(', ')}, *)`,
      );
    if (!(POLICY_ACTIONS as readonly string[]).includes(action ?? ''))
      throw new Error(`rule ${JSON.stringify(rule)} has no action (${POLICY_ACTIONS.join(', ')})`);
    // A question has no safe answer to give on the user's behalf.
    if (category === 'question' && action === 'allow')
      throw new Error(`rule ${JSON.stringify(rule)}: a question can only be ask or deny`);
    rules.push({
      agent: agent ?? null,
      category: category as PolicyCategory | '*',
      action: action as PolicyAction,
    });
  }
  return { rules };
}

/** The action for one agent and category. Unmatched: `ask`, so nothing runs by accident. */
export function actionFor(
  policy: ApprovalPolicy,
  agent: string,
  category: PolicyCategory,
): PolicyAction {
  const specificity = (rule: PolicyRule): number =>
    (rule.agent === agent ? 2 : rule.agent === null ? 0 : -10) +
    (rule.category === category ? 1 : rule.category === '*' ? 0 : -10);
  let best: { score: number; action: PolicyAction } | null = null;
  for (const rule of policy.rules) {
    const score = specificity(rule);
    // Later rules of equal weight override earlier ones, as in a config file read top down.
    if (score >= 0 && (best === null || score >= best.score)) best = { score, action: rule.action };
  }
  const action = best?.action ?? 'ask';
  return category === 'question' && action === 'allow' ? 'ask' : action;
}

/** Every category's action for one agent: what a backend translates into its CLI's own config. */
export function policyFor(
  policy: ApprovalPolicy,
  agent: string,
): Record<PolicyCategory, PolicyAction> {
  const out = {} as Record<PolicyCategory, PolicyAction>;
  for (const category of POLICY_CATEGORIES) out[category] = actionFor(policy, agent, category);
  return out;
}

export type GateDecision =
  { decision: 'allow'; why: string } | { decision: 'deny'; why: string } | { decision: 'ask' };

/**
 * What to do with a request before anyone is asked: a grant for the task's rest, then the
 * policy. Stall questions are kugetsu's own and always go to a person.
 */
export function decide(
  policy: ApprovalPolicy,
  agent: string,
  request: Pick<ApprovalRequest, 'kind' | 'category'>,
  grants: ReadonlySet<PolicyCategory>,
): GateDecision {
  if (request.kind === 'stall') return { decision: 'ask' };
  const category: PolicyCategory = request.kind === 'question' ? 'question' : request.category;
  if (request.kind === 'permission' && grants.has(category))
    return { decision: 'allow', why: `${category} was allowed for the rest of this task` };
  const action = actionFor(policy, agent, category);
  if (action === 'allow')
    return { decision: 'allow', why: `KUGETSU_APPROVAL_POLICY allows ${category}` };
  if (action === 'deny')
    return {
      decision: 'deny',
      why:
        category === 'question'
          ? 'KUGETSU_APPROVAL_POLICY says not to ask the user: decide yourself'
          : `KUGETSU_APPROVAL_POLICY denies ${category}`,
    };
  return { decision: 'ask' };
}
