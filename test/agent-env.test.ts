import { describe, expect, it } from 'vitest';
import { buildAgentEnv } from '../core/agents/agent-env.js';

const task = {
  taskId: 7,
  issueRef: 'h/o/r#1',
  worktree: '/w',
  branch: 'kugetsu/h-o-r-1',
  mode: 'continue' as const,
  attempt: 2,
  sessionKey: 'h-o-r-1',
  agentSessionId: 'ses_1',
  model: null,
};

describe('buildAgentEnv', () => {
  it('keeps the user environment, withholds kugetsu secrets, layers env files and task facts', () => {
    const env = buildAgentEnv({
      base: {
        PATH: '/bin',
        HOME: '/root',
        TELEGRAM_BOT_TOKEN: 'bot',
        GITEA_TOKEN: 'forge',
        ANTHROPIC_BASE_URL: 'http://x',
      },
      withheldKeys: ['TELEGRAM_BOT_TOKEN', 'GITEA_TOKEN'],
      envFiles: { GITEA_TOKEN: 'from-file', EXTRA: '1' },
      task,
    });
    expect(env).toMatchObject({
      PATH: '/bin',
      ANTHROPIC_BASE_URL: 'http://x',
      GITEA_TOKEN: 'from-file',
      EXTRA: '1',
    });
    expect(env['TELEGRAM_BOT_TOKEN']).toBeUndefined();
    expect(env).toMatchObject({
      KUGETSU_TASK_ID: '7',
      KUGETSU_ISSUE_REF: 'h/o/r#1',
      KUGETSU_WORKTREE: '/w',
      KUGETSU_BRANCH: 'kugetsu/h-o-r-1',
      KUGETSU_MODE: 'continue',
      KUGETSU_ATTEMPT: '2',
      KUGETSU_SESSION_ID: 'h-o-r-1',
      KUGETSU_AGENT_SESSION: 'ses_1',
    });
  });

  it('gives no agent session on a fresh start, even if one leaks in from the environment', () => {
    const env = buildAgentEnv({
      base: { KUGETSU_AGENT_SESSION: 'stale' },
      withheldKeys: [],
      envFiles: {},
      task: { ...task, mode: 'start' },
    });
    expect(env['KUGETSU_AGENT_SESSION']).toBeUndefined();
  });

  // opencode takes its directory from PWD: the one inherited from the shell that started
  // kugetsu once sent an agent's commits into that shell's repository.
  it('sets PWD to the worktree, whatever directory kugetsu was started from', () => {
    const env = buildAgentEnv({
      base: { PWD: '/home/me/some-other-repo', OLDPWD: '/home/me' },
      withheldKeys: [],
      envFiles: {},
      task,
    });
    expect(env['PWD']).toBe('/w');
    expect(env['OLDPWD']).toBeUndefined();
  });
});
