/** The pure decisions around forges: intake, hand-off text, git credentials, doctor's verdicts. */
import { describe, expect, it } from 'vitest';
import type { Server } from '../core/domain.js';
import type { ForgeComment, ForgeIssue } from '../core/forges/forge-api.js';
import { splitRepoPath } from '../core/forges/forge.js';
import {
  KUGETSU_MARK,
  commentMarker,
  issueCommentBody,
  pullRequestBody,
  pullRequestTitle,
  type HandOffFacts,
} from '../core/forges/hand-off-text.js';
import { mentions, nextCommentsSince, planIntake } from '../core/forges/intake-plan.js';
import { judgeIdentity } from '../core/forges/server-check.js';
import { validateMessage } from '../core/operations/tasks.js';
import { promptVariables } from '../core/runner/issue-prompt.js';
import { gitAuthEnv } from '../core/workspaces/git-auth.js';

function server(kind: Server['kind'], url = 'https://git.example.com'): Server {
  return {
    name: 's',
    kind,
    url,
    host: 'git.example.com',
    apiUrl: null,
    tokenEnv: 'T',
    isDefault: true,
  };
}

function issue(number: number, labels: string[], state: ForgeIssue['state'] = 'open'): ForgeIssue {
  return {
    number,
    title: `i${number}`,
    body: '',
    state,
    labels,
    url: '',
    author: 'a',
    updatedAt: 0,
  };
}

function comment(id: number, issueNumber: number, body: string, createdAt: number): ForgeComment {
  return { id, issueNumber, author: 'bob', body, createdAt, url: `u${id}` };
}

const facts: HandOffFacts = {
  taskId: 7,
  issueRef: 'git.example.com/me/app#3',
  issueNumber: 3,
  issueTitle: 'Fix login',
  branch: 'kugetsu/git.example.com-me-app-3',
  diffstat: '1 file changed, 2 insertions(+)',
  answer: 'Done.\nSee <!-- kugetsu:task=99 --> here',
};

describe('intake planning', () => {
  const base = {
    scope: 's/me/app',
    label: 'kugetsu',
    mention: '@kugetsu',
    commentsSince: 1_000,
    withSession: new Set<number>(),
  };

  it('queues open labelled issues without a session, keyed per issue', () => {
    const actions = planIntake({
      ...base,
      issues: [
        issue(1, ['KUGETSU']),
        issue(2, ['bug']),
        issue(3, ['kugetsu'], 'closed'),
        issue(4, ['kugetsu']),
      ],
      comments: null,
      withSession: new Set([4]),
    });
    expect(actions.map((a) => [a.key, a.why])).toEqual([['issue:s/me/app#1', 'label']]);
  });

  it('takes mentions from others, not kugetsu itself, oldest first, from the cursor on', () => {
    const actions = planIntake({
      ...base,
      issues: null,
      comments: [
        comment(12, 5, 'later @kugetsu do more', 3_000),
        comment(10, 5, '@kugetsu please', 1_000),
        comment(9, 5, '@kugetsu old', 999),
        comment(11, 5, `@kugetsu ${KUGETSU_MARK}`, 2_000),
        comment(13, 5, 'no mention here', 4_000),
      ],
    });
    expect(actions.map((a) => a.key)).toEqual(['comment:s/me/app/10', 'comment:s/me/app/12']);
    expect(actions[0]?.message).toContain('@kugetsu please');
  });

  it('turns a hostile comment into a message any task accepts', () => {
    const [action] = planIntake({
      ...base,
      issues: null,
      comments: [comment(20, 5, `@kugetsu do\0 it ${'x'.repeat(70_000)}`, 2_000)],
    });
    if (action === undefined) throw new Error('no action');
    expect(action.message).not.toContain('\0');
    expect(() => validateMessage(action.message)).not.toThrow();
    expect(action.message).toMatch(/cut by kugetsu: \d+ more characters\]$/);
  });

  it('matches a mention as a word of its own', () => {
    expect(mentions('hey @kugetsu, go', '@kugetsu')).toBe(true);
    expect(mentions('@KUGETSU go', '@kugetsu')).toBe(true);
    expect(mentions('@kugetsubot go', '@kugetsu')).toBe(false);
    expect(mentions('mail me@kugetsu.dev', '@kugetsu')).toBe(false);
    expect(mentions('thanks @kugetsu.', '@kugetsu')).toBe(true);
  });

  it('moves the comment cursor forward only', () => {
    expect(nextCommentsSince(5, [comment(1, 1, '', 3), comment(2, 1, '', 9)])).toBe(9);
    expect(nextCommentsSince(5, [comment(1, 1, '', 3)])).toBe(5);
    expect(nextCommentsSince(5, null)).toBe(5);
  });
});

describe('hand-off text', () => {
  it('marks the comment with its task and quotes the agent, whose markers are defused', () => {
    const body = issueCommentBody(facts, 'https://git.example.com/me/app/pulls/4');
    expect(body).toContain(commentMarker(7));
    expect(body).toContain('https://git.example.com/me/app/pulls/4');
    expect(body).toContain('> Done.');
    expect(body).not.toContain(commentMarker(99));
    expect(body.split(KUGETSU_MARK)).toHaveLength(2);
  });

  it('titles the pull request after the issue and links it for closing', () => {
    expect(pullRequestTitle(facts)).toBe('Fix login (#3)');
    expect(pullRequestTitle({ ...facts, issueTitle: 'x'.repeat(300) })).toHaveLength(120);
    expect(pullRequestTitle({ ...facts, issueTitle: null })).toBe(
      'Work on git.example.com/me/app#3 (#3)',
    );
    expect(pullRequestBody(facts)).toMatch(/^Closes #3\./);
  });

  it('splits GitLab subgroup paths at the last slash', () => {
    expect(splitRepoPath('group/sub/app')).toEqual({ owner: 'group/sub', repo: 'app' });
    expect(splitRepoPath('me/app')).toEqual({ owner: 'me', repo: 'app' });
  });
});

describe('git credentials', () => {
  it('carries the token in an extra header through git config variables, after the caller’s own', () => {
    const env = gitAuthEnv(server('github'), 'tok', { GIT_CONFIG_COUNT: '2' });
    expect(env).toEqual({
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_2: 'http.extraHeader',
      GIT_CONFIG_VALUE_2: `Authorization: Basic ${Buffer.from('x-access-token:tok').toString('base64')}`,
    });
    expect(gitAuthEnv(server('gitlab'), 'tok')['GIT_CONFIG_VALUE_0']).toBe(
      `Authorization: Basic ${Buffer.from('oauth2:tok').toString('base64')}`,
    );
  });

  it('adds nothing without a token or for file:// servers', () => {
    expect(gitAuthEnv(server('gitea'), null)).toEqual({});
    expect(gitAuthEnv(server('git', 'file:///srv/git'), 'tok')).toEqual({});
  });
});

describe("doctor's verdict on a token", () => {
  it('needs repo (or public_repo, with a warning) on GitHub and api on GitLab', () => {
    expect(judgeIdentity(server('github'), { login: 'me', scopes: ['repo'] }).ok).toBe(true);
    expect(judgeIdentity(server('github'), { login: 'me', scopes: ['public_repo'] }).ok).toBe(
      'warn',
    );
    const missing = judgeIdentity(server('github'), { login: 'me', scopes: ['gist'] });
    expect(missing.ok).toBe(false);
    expect(missing.detail).toContain('has: gist');
    expect(judgeIdentity(server('gitlab'), { login: 'me', scopes: ['read_api'] }).ok).toBe(false);
    expect(judgeIdentity(server('gitea'), { login: 'me', scopes: null })).toEqual({
      ok: true,
      detail: 'token of me (scopes not reported; checked on first use)',
    });
  });
});

describe('prompt variables', () => {
  it("cuts long text, keeps the newest comments and leaves kugetsu's own out", () => {
    const comments = Array.from({ length: 40 }, (_, i) => ({
      author: `u${i}`,
      body: i === 39 ? `summary ${KUGETSU_MARK}` : `c${i}`,
      createdAt: i * 1000,
    }));
    const vars = promptVariables({
      issueRef: 'h/me/app#1',
      issue: {
        number: 1,
        title: 't',
        body: 'b'.repeat(20_000),
        state: 'open',
        labels: [],
        url: '',
        author: 'a',
        comments,
      },
      message: 'm',
      branch: 'kugetsu/x',
      repoPath: 'me/app',
      defaultBranch: 'main',
      attempt: 1,
    });
    expect(vars.issue.body.length).toBeLessThan(16_100);
    expect(vars.issue.body).toContain('cut by kugetsu: 4000 more characters');
    expect(vars.issue.comments).toHaveLength(30);
    expect(vars.issue.comments[0]?.author).toBe('u9');
    expect(vars.issue.comments.at(-1)?.body).toBe('c38');
    expect(vars.issue.comments[0]?.created_at).toBe('1970-01-01T00:00:09.000Z');
  });
});
