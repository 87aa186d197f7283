/**
 * Workspaces over real git (a `file://` origin): what a task's worktree, status and
 * WORKFLOW.md read cost in git processes is cut (fetch reuse, one status process, a cached
 * default-branch file), and what each answer must still be.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Server } from '../core/domain.js';
import { parseStatus } from '../core/workspaces/git-status.js';
import { Workspaces, type WorkspaceTarget } from '../core/workspaces/workspaces.js';
import { git as sandboxGit } from './helpers/sandbox.js';

function git(cwd: string, ...args: string[]): string {
  return sandboxGit(cwd, args).trim();
}

let dir: string;
let origin: string;
let workspaces: Workspaces;
let server: Server;
const savedEnv = { ...process.env };

function commitToOrigin(path: string, text: string): void {
  mkdirSync(join(origin, path, '..'), { recursive: true });
  writeFileSync(join(origin, path), text);
  git(origin, 'add', path);
  git(origin, 'commit', '--quiet', '-m', `write ${path}`);
}

function targetFor(n: number): WorkspaceTarget {
  const key = `local-me-app-${n}`;
  return {
    server,
    repoPath: 'me/app',
    workspaceKey: key,
    worktreePath: join(dir, 'worktrees', key),
    branch: `kugetsu/${key}`,
  };
}

beforeEach(() => {
  // The code under test runs git from this process: no system or global config either.
  Object.assign(process.env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'kugetsu-workspaces-')));
  origin = join(dir, 'git', 'me', 'app');
  mkdirSync(origin, { recursive: true });
  git(origin, 'init', '--quiet', '--initial-branch=main');
  commitToOrigin('README.md', '# app\n');
  server = {
    name: 'local',
    kind: 'git',
    url: `file://${join(dir, 'git')}`,
    host: null,
    apiUrl: null,
    tokenEnv: null,
    isDefault: true,
  };
  workspaces = new Workspaces(join(dir, 'repos'));
});

afterEach(() => {
  process.env = { ...savedEnv };
  rmSync(dir, { recursive: true, force: true });
});

describe('parseStatus', () => {
  it('reads dirtiness, the upstream and the ahead count of porcelain v2', () => {
    expect(
      parseStatus(
        '# branch.oid abc\n# branch.head kugetsu/x\n# branch.upstream origin/main\n# branch.ab +2 -5\n? new.txt',
      ),
    ).toEqual({ dirty: true, upstream: 'origin/main', ahead: 2 });
    expect(parseStatus('# branch.oid abc\n# branch.head (detached)')).toEqual({
      dirty: false,
      upstream: null,
      ahead: null,
    });
  });
});

describe('Workspaces', () => {
  it('status: clean, dirty, then ahead of the default branch once the agent commits', async () => {
    const target = targetFor(1);
    expect(await workspaces.ensureWorktree(target, () => undefined)).toBe('created');
    expect(await workspaces.status(target)).toEqual({ exists: true, dirty: false, aheadOfBase: 0 });
    writeFileSync(join(target.worktreePath, 'work.txt'), 'done\n');
    expect(await workspaces.status(target)).toEqual({ exists: true, dirty: true, aheadOfBase: 0 });
    git(target.worktreePath, 'add', 'work.txt');
    git(target.worktreePath, 'commit', '--quiet', '-m', 'work');
    git(target.worktreePath, 'commit', '--quiet', '--allow-empty', '-m', 'more');
    expect(await workspaces.status(target)).toEqual({ exists: true, dirty: false, aheadOfBase: 2 });
    expect(await workspaces.diffstat(target)).toMatch(/^1 file changed, 1 insertion/);
  });

  it('status counts commits ahead of the default branch on a branch without that upstream', async () => {
    const target = targetFor(2);
    await workspaces.ensureWorktree(target, () => undefined);
    git(target.worktreePath, 'branch', '--unset-upstream');
    git(target.worktreePath, 'commit', '--quiet', '--allow-empty', '-m', 'one');
    expect(await workspaces.status(target)).toEqual({ exists: true, dirty: false, aheadOfBase: 1 });
  });

  it('a worktree made again on a branch that exists keeps the branch and its commits', async () => {
    const target = targetFor(3);
    await workspaces.ensureWorktree(target, () => undefined);
    git(target.worktreePath, 'commit', '--quiet', '--allow-empty', '-m', 'kept');
    await workspaces.discardWorktree(target);
    expect(await workspaces.ensureWorktree(target, () => undefined)).toBe('created');
    expect(git(target.worktreePath, 'log', '-1', '--format=%s')).toBe('kept');
  });

  it('reuses a fetch younger than the window, and fetches again once it is older', async () => {
    // Windows wide and zero rather than a sleep: a loaded machine must not decide the outcome.
    const reusing = new Workspaces(join(dir, 'repos'), () => ({}), 60_000);
    await reusing.ensureWorktree(targetFor(4), () => undefined);
    commitToOrigin('later.txt', 'later\n');
    const notes: string[] = [];
    await reusing.ensureWorktree(targetFor(5), (line) => notes.push(line));
    expect(notes).toContain('using the fetch of me/app that just finished');
    expect(git(targetFor(5).worktreePath, 'log', '-1', '--format=%s')).toBe('write README.md');
    const fetching = new Workspaces(join(dir, 'repos'), () => ({}), 0);
    await fetching.ensureWorktree(targetFor(6), () => undefined);
    notes.length = 0;
    await fetching.ensureWorktree(targetFor(7), (line) => notes.push(line));
    expect(notes).toContain('fetching me/app');
    expect(git(targetFor(7).worktreePath, 'log', '-1', '--format=%s')).toBe('write later.txt');
  });

  it('reads a default-branch file again after any fetch, and null while there is none', async () => {
    const target = targetFor(8);
    await workspaces.ensureWorktree(target, () => undefined);
    const read = () => workspaces.readDefaultBranchFile(target, '.kugetsu/WORKFLOW.md');
    expect(await read()).toBeNull();
    commitToOrigin('.kugetsu/WORKFLOW.md', 'first\n');
    // Not fetched yet: the mirror still has no such file.
    expect(await read()).toBeNull();
    // A fetch by another process (FETCH_HEAD rewritten) is seen as well as one of our own.
    git(workspaces.mirrorPath(server, 'me/app'), 'fetch', '--quiet', 'origin');
    expect(await read()).toBe('first');
    commitToOrigin('.kugetsu/WORKFLOW.md', 'second\n');
    git(workspaces.mirrorPath(server, 'me/app'), 'fetch', '--quiet', 'origin');
    expect(await read()).toBe('second');
  });
});
