/**
 * Git workspaces: one bare clone per remote repository under `repos/`, fetched before each
 * new worktree, and one worktree per issue on branch `kugetsu/<workspace-key>`.
 * Every git call passes an argument array; nothing here builds a shell string.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { OperationError, errorMessage } from '../errors.js';
import type { Server } from '../domain.js';
import { cloneUrl } from './clone-url.js';
import { KeyedMutex } from './keyed-mutex.js';

export interface WorkspaceTarget {
  server: Server;
  /** `owner/repo` */
  repoPath: string;
  workspaceKey: string;
  worktreePath: string;
  branch: string;
}

export interface WorktreeStatus {
  exists: boolean;
  /** Uncommitted changes (tracked or untracked). */
  dirty: boolean;
  /** Commits on the branch that the remote's default branch does not have. */
  aheadOfBase: number;
}

function git(dir?: string): SimpleGit {
  return simpleGit({ baseDir: dir, maxConcurrentProcesses: 4, trimmed: true });
}

export class Workspaces {
  // One repository's bare clone is fetched and branched by one operation at a time;
  // concurrent `git fetch` into the same repo fails on ref locks.
  private readonly repoLocks = new KeyedMutex();
  // When each repository's last successful fetch started: a caller that asked for a worktree
  // before then can use that fetch instead of running its own.
  private readonly fetchedAt = new Map<string, number>();

  constructor(private readonly reposDir: string) {
    // A git that prompts for credentials would hang a headless daemon. Set on the process
    // (inherited by git) because simple-git's environment guard refuses an explicit env
    // carrying the user's own GIT_* settings.
    process.env['GIT_TERMINAL_PROMPT'] = '0';
  }

  mirrorPath(server: Server, repoPath: string): string {
    const name = `${server.host ?? server.name}-${repoPath}`.replace(/[^A-Za-z0-9._-]/g, '_');
    return join(this.reposDir, `${name}.git`);
  }

  /** Creates the worktree if it does not exist yet; reuses it (no fetch) if it does. */
  async ensureWorktree(
    target: WorkspaceTarget,
    progress: (line: string) => void,
  ): Promise<'created' | 'reused'> {
    if (await this.isWorktree(target.worktreePath)) return 'reused';
    const mirror = this.mirrorPath(target.server, target.repoPath);
    const askedAt = performance.now();
    return this.repoLocks.run(mirror, async () => {
      if ((this.fetchedAt.get(mirror) ?? -1) < askedAt)
        await this.ensureMirror(target, mirror, progress);
      else progress(`using the fetch of ${target.repoPath} that just finished`);
      const base = await this.defaultBranch(mirror);
      const repo = git(mirror);
      await mkdir(join(target.worktreePath, '..'), { recursive: true });
      if (existsSync(target.worktreePath))
        await rm(target.worktreePath, { recursive: true, force: true });
      await repo.raw(['worktree', 'prune']);
      const branchExists = (await repo.raw(['branch', '--list', target.branch])).trim() !== '';
      progress(`creating worktree on ${target.branch} from origin/${base}`);
      const args = branchExists
        ? ['worktree', 'add', target.worktreePath, target.branch]
        : [
            'worktree',
            'add',
            '-b',
            target.branch,
            target.worktreePath,
            `refs/remotes/origin/${base}`,
          ];
      await repo.raw(args);
      // Commits made in the worktree need an identity even on a server without a global one.
      const wt = git(target.worktreePath);
      const name = await wt.raw(['config', '--get', 'user.name']).catch(() => '');
      if (name.trim() === '') {
        await wt.raw(['config', 'user.name', 'kugetsu']);
        await wt.raw(['config', 'user.email', 'kugetsu@localhost']);
      }
      return 'created' as const;
    });
  }

  private async ensureMirror(
    target: WorkspaceTarget,
    mirror: string,
    progress: (line: string) => void,
  ): Promise<void> {
    const url = cloneUrl(target.server, target.repoPath);
    try {
      if (!existsSync(mirror)) {
        progress(`cloning ${target.repoPath}`);
        await mkdir(this.reposDir, { recursive: true });
        await git().raw(['clone', '--bare', '--quiet', url, mirror]);
        const repo = git(mirror);
        // A bare clone maps remote branches onto local ones; keep them apart so fetches never
        // touch the kugetsu/* branches that worktrees have checked out.
        await repo.raw(['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*']);
        await repo.raw(['config', 'gc.auto', '0']);
      }
      progress(`fetching ${target.repoPath}`);
      const startedAt = performance.now();
      await git(mirror).raw(['fetch', '--prune', '--quiet', 'origin']);
      this.fetchedAt.set(mirror, startedAt);
    } catch (err) {
      throw new OperationError(
        `cannot fetch ${target.repoPath} from server ${target.server.name}: ${firstLine(err)}`,
      );
    }
  }

  private async defaultBranch(mirror: string): Promise<string> {
    const repo = git(mirror);
    const head = (await repo.raw(['symbolic-ref', '--quiet', 'HEAD']).catch(() => '')).trim();
    const candidates = [head.replace(/^refs\/heads\//, ''), 'main', 'master'].filter(
      (b) => b !== '',
    );
    for (const branch of candidates) {
      const ok = await repo
        .raw(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`])
        .then(
          () => true,
          () => false,
        );
      if (ok) return branch;
    }
    throw new OperationError(`repository ${mirror} has no default branch to start from`);
  }

  async isWorktree(path: string): Promise<boolean> {
    if (!existsSync(join(path, '.git'))) return false;
    return git(path)
      .raw(['rev-parse', '--is-inside-work-tree'])
      .then(
        (out) => out.trim() === 'true',
        () => false,
      );
  }

  async status(target: WorkspaceTarget): Promise<WorktreeStatus> {
    if (!(await this.isWorktree(target.worktreePath)))
      return { exists: false, dirty: false, aheadOfBase: 0 };
    const wt = git(target.worktreePath);
    const porcelain = await wt.raw(['status', '--porcelain']);
    const base = await this.defaultBranch(this.mirrorPath(target.server, target.repoPath)).catch(
      () => null,
    );
    const ahead =
      base === null
        ? 0
        : Number(
            (
              await wt
                .raw(['rev-list', '--count', `refs/remotes/origin/${base}..HEAD`])
                .catch(() => '0')
            ).trim(),
          );
    return { exists: true, dirty: porcelain.trim() !== '', aheadOfBase: ahead };
  }

  /** `N files changed, +A -D` for the branch against the remote default branch. */
  async diffstat(target: WorkspaceTarget): Promise<string> {
    const base = await this.defaultBranch(this.mirrorPath(target.server, target.repoPath));
    const out = await git(target.worktreePath).raw([
      'diff',
      '--shortstat',
      `refs/remotes/origin/${base}...HEAD`,
    ]);
    return out.trim() === '' ? 'no changes' : out.trim();
  }

  /** Pushes the session branch to the remote (used by servers without a forge API). */
  async pushBranch(target: WorkspaceTarget): Promise<void> {
    const mirror = this.mirrorPath(target.server, target.repoPath);
    await this.repoLocks.run(mirror, async () => {
      try {
        await git(target.worktreePath).raw([
          'push',
          '--quiet',
          'origin',
          `${target.branch}:refs/heads/${target.branch}`,
        ]);
      } catch (err) {
        throw new OperationError(
          `cannot push ${target.branch} to server ${target.server.name}: ${firstLine(err)}`,
        );
      }
    });
  }

  /** True when the remote has the branch at the worktree's HEAD (nothing would be lost). */
  async isPushed(target: WorkspaceTarget): Promise<boolean> {
    if (!(await this.isWorktree(target.worktreePath))) return true;
    const wt = git(target.worktreePath);
    const head = (await wt.raw(['rev-parse', 'HEAD'])).trim();
    const remote = await git()
      .raw(['ls-remote', cloneUrl(target.server, target.repoPath), `refs/heads/${target.branch}`])
      .catch(() => '');
    return remote.split(/\s+/)[0] === head;
  }

  /** Removes the worktree and its branch. */
  async remove(target: WorkspaceTarget): Promise<void> {
    const mirror = this.mirrorPath(target.server, target.repoPath);
    await this.repoLocks.run(mirror, async () => {
      if (existsSync(mirror)) {
        const repo = git(mirror);
        await repo
          .raw(['worktree', 'remove', '--force', target.worktreePath])
          .catch(() => undefined);
        await repo.raw(['worktree', 'prune']);
        await repo.raw(['branch', '-D', target.branch]).catch(() => undefined);
      }
      await rm(target.worktreePath, { recursive: true, force: true });
    });
  }
}

function firstLine(err: unknown): string {
  const lines = errorMessage(err)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0] ?? 'unknown git error';
}
