/** The environment an agent receives (DESIGN.md §6), as a pure function. */
import type { TaskMode } from '../domain.js';

export interface AgentEnvInput {
  /** The environment kugetsu was started with. */
  base: Readonly<Record<string, string | undefined>>;
  /** kugetsu's own secrets' keys (TELEGRAM_BOT_TOKEN, forge tokens): removed unless an env file sets them. */
  withheldKeys: readonly string[];
  /** default.env merged with <agent>.env (the latter wins). */
  envFiles: Readonly<Record<string, string>>;
  task: {
    taskId: number;
    issueRef: string | null;
    worktree: string;
    branch: string | null;
    mode: TaskMode;
    attempt: number;
    sessionKey: string;
    agentSessionId: string | null;
    model: string | null;
  };
}

export function buildAgentEnv(input: AgentEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  const withheld = new Set(input.withheldKeys);
  for (const [key, value] of Object.entries(input.base)) {
    if (value !== undefined && !withheld.has(key)) env[key] = value;
  }
  Object.assign(env, input.envFiles);
  const t = input.task;
  // Some agent CLIs take their directory from PWD rather than the real cwd; the one inherited
  // from whoever started kugetsu would send them into the wrong directory.
  env['PWD'] = t.worktree;
  delete env['OLDPWD'];
  env['KUGETSU_TASK_ID'] = String(t.taskId);
  env['KUGETSU_ISSUE_REF'] = t.issueRef ?? '';
  env['KUGETSU_WORKTREE'] = t.worktree;
  env['KUGETSU_BRANCH'] = t.branch ?? '';
  env['KUGETSU_MODE'] = t.mode;
  env['KUGETSU_ATTEMPT'] = String(t.attempt);
  env['KUGETSU_SESSION_ID'] = t.sessionKey;
  if (t.agentSessionId !== null && t.mode !== 'start')
    env['KUGETSU_AGENT_SESSION'] = t.agentSessionId;
  else delete env['KUGETSU_AGENT_SESSION'];
  if (t.model !== null) env['KUGETSU_MODEL'] = t.model;
  return env;
}

/** `defaults` under `env`: a value the user set (environment or env file) wins. */
export function withDefaults(
  env: Record<string, string>,
  defaults: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...defaults, ...env };
}
