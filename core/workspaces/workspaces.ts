/**
 * Git workspaces: one bare clone per remote repository under `repos/`, fetched before each
 * new worktree (unless this process fetched it within the last second), and one worktree per
 * issue on branch `kugetsu/<workspace-key>`. Every git call passes an argument array; nothing
 * here builds a shell string.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { OperationError } from '../errors.js';
import type { Server } from '../domain.js';
import { cloneUrl } from './clone-url.js';
import { GitError, git, gitSucceeds } from './git.js';
import { gitFailure } from './git-failure.js';
import { fetchSignature, hasRef } from './git-refs.js';
import { parseStatus } from './git-status.js';
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

// A burst of new issues on one repository shares a fetch this recent: a second of staleness
// is what a task queued a moment earlier would have seen anyway.
const FETCH_REUSE_MS = 1000;

/** The diffstat of a branch with nothing on it that the base lacks. */
export const NO_CHANGES = 'no changes';

const BRANCH_EXISTS = /a branch named .* already exists/;

export class Workspaces {
  // One repository's bare clone is fetched and branched by one operation at a time;
  // concurrent `git fetch` into the same repo fails on ref locks.
  private readonly repoLocks = new KeyedMutex();
  // When each repository's last successful fetch started: a caller that asked for a worktree
  // less than FETCH_REUSE_MS after then can use that fetch instead of running its own.
  private readonly fetchedAt = new Map<string, number>();
  // A repository's default branch, found once per process: it changes rarely, and looking it
  // up costs git calls on every task.
  private readonly defaultBranches = new Map<string, string>();
  // Files read from a default branch, valid while the mirror's FETCH_HEAD (rewritten by every
  // fetch, whichever process runs it) is unchanged: WORKFLOW.md is read by every new task.
  private readonly branchFiles = new Map<string, { fetch: string; text: string | null }>();

  constructor(
    private readonly reposDir: string,
    /** Environment that authenticates git's requests to a server (see git-auth.ts). */
    private readonly credentials: (server: Server) => Record<string, string> = () => ({}),
    private readonly fetchReuseMs = FETCH_REUSE_MS,
  ) {}

  mirrorPath(server: Server, repoPath: string): string {
    const name = `${server.host ?? server.name}-${repoPath}`.replace(/[^A-Za-z0-9._-]/g, '_');
    return join(this.reposDir, `${name}.git`);
  }

  /** Creates the worktree if it does not exist yet; reuses it (no fetch) if it does. */
  async ensureWorktree(
    target: WorkspaceTarget,
    progress: (line: string) => void,
  ): Promise<'created' | 'reused'> {
    if (this.isWorktree(target.worktreePath)) return 'reused';
    const mirror = this.mirrorPath(target.server, target.repoPath);
    const askedAt = performance.now();
    return this.repoLocks.run(mirror, async () => {
      const fetchedAt = this.fetchedAt.get(mirror);
      if (fetchedAt === undefined || fetchedAt < askedAt - this.fetchReuseMs) {
        await this.ensureMirror(target, mirror, progress);
      } else {
        progress(`using the fetch of ${target.repoPath} that just finished`);
      }
      const base = await this.defaultBranch(mirror);
      await mkdir(dirname(target.worktreePath), { recursive: true });
      if (existsSync(target.worktreePath)) {
        await rm(target.worktreePath, { recursive: true, force: true });
      }
      // A session made on another machine (a fleet's worker, `session move`) goes on from the
      // branch that machine pushed, not afresh from the default branch.
      const from = (await hasRef(mirror, `refs/remotes/origin/${target.branch}`))
        ? target.branch
        : base;
      progress(`creating worktree on ${target.branch} from origin/${from}`);
      // A new branch is the common case, so it is tried first: asking whether the branch exists
      // would cost a git process on every task, git's refusal costs one only when it does.
      let add = [
        'worktree',
        'add',
        '--quiet',
        '-b',
        target.branch,
        target.worktreePath,
        `refs/remotes/origin/${from}`,
      ];
      try {
        await git(add, mirror);
        return 'created' as const;
      } catch (err) {
        if (err instanceof GitError && BRANCH_EXISTS.test(err.stderr))
          add = ['worktree', 'add', '--quiet', target.worktreePath, target.branch];
      }
      try {
        await git(add, mirror);
      } catch {
        // A worktree directory removed by hand stays registered until pruned.
        await git(['worktree', 'prune'], mirror);
        await git(add, mirror);
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
    const auth = this.credentials(target.server);
    try {
      if (!existsSync(mirror)) {
        progress(`cloning ${target.repoPath}`);
        await mkdir(this.reposDir, { recursive: true });
        await git(['clone', '--bare', '--quiet', url, mirror], undefined, auth);
        // A bare clone maps remote branches onto local ones; keep them apart so fetches never
        // touch the kugetsu/* branches that worktrees have checked out.
        await git(['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*'], mirror);
        await git(['config', 'gc.auto', '0'], mirror);
        // Worktrees share this config: agents' commits get an identity even on a server
        // without a global one, and the user's own identity wins where there is one.
        if (!(await gitSucceeds(['config', '--get', 'user.name'], mirror))) {
          await git(['config', 'user.name', 'kugetsu'], mirror);
          await git(['config', 'user.email', 'kugetsu@localhost'], mirror);
        }
      }
      progress(`fetching ${target.repoPath}`);
      const startedAt = performance.now();
      await git(['fetch', '--prune', '--quiet', 'origin'], mirror, auth);
      this.fetchedAt.set(mirror, startedAt);
    } catch (err) {
      throw gitFailure(target, 'fetch', err);
    }
  }

  private async defaultBranch(mirror: string): Promise<string> {
    const known = this.defaultBranches.get(mirror);
    if (known !== undefined) return known;
    const head = await git(['symbolic-ref', '--quiet', 'HEAD'], mirror).catch(() => '');
    const candidates = [head.replace(/^refs\/heads\//, ''), 'main', 'master'].filter(
      (b) => b !== '',
    );
    for (const branch of candidates) {
      if (
        await gitSucceeds(
          ['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`],
          mirror,
        )
      ) {
        this.defaultBranches.set(mirror, branch);
        return branch;
      }
    }
    throw new OperationError(`repository ${mirror} has no default branch to start from`);
  }

  /**
   * A worktree is a `.git` file pointing at its record in the repository; checked on the file
   * system so the hot path spends no git call on it.
   */
  isWorktree(path: string): boolean {
    try {
      const pointer = /^gitdir: (.+)$/m.exec(readFileSync(join(path, '.git'), 'utf8'))?.[1];
      return pointer !== undefined && existsSync(pointer.trim());
    } catch {
      return false;
    }
  }

  async status(target: WorkspaceTarget): Promise<WorktreeStatus> {
    if (!this.isWorktree(target.worktreePath))
      return { exists: false, dirty: false, aheadOfBase: 0 };
    const base = await this.defaultBranch(this.mirrorPath(target.server, target.repoPath)).catch(
      () => null,
    );
    // One process for both answers: the branch's upstream is origin/<base> (worktree add -b
    // from the remote-tracking branch sets it), so git's own ahead count is the one needed.
    const status = parseStatus(
      await git(['status', '--porcelain=v2', '--branch'], target.worktreePath),
    );
    if (base === null) return { exists: true, dirty: status.dirty, aheadOfBase: 0 };
    const ahead =
      status.upstream === `origin/${base}` && status.ahead !== null
        ? status.ahead
        : Number(
            await git(
              ['rev-list', '--count', `refs/remotes/origin/${base}..HEAD`],
              target.worktreePath,
            ).catch(() => '0'),
          );
    return { exists: true, dirty: status.dirty, aheadOfBase: ahead };
  }

  /**
   * Commits everything left in the worktree, for agents that cannot commit themselves (codex's
   * sandbox keeps a worktree's git directory read-only). Falls back to a kugetsu identity only
   * when git has none configured.
   */
  async commitAll(target: WorkspaceTarget, message: string): Promise<void> {
    const cwd = target.worktreePath;
    await git(['add', '--all'], cwd);
    const identity = (await gitSucceeds(['config', 'user.email'], cwd))
      ? []
      : ['-c', 'user.name=kugetsu', '-c', 'user.email=kugetsu@localhost'];
    await git([...identity, 'commit', '--quiet', '--no-verify', '-m', message], cwd);
  }

  /** `N files changed, +A -D` for the branch against the remote default branch. */
  async diffstat(target: WorkspaceTarget): Promise<string> {
    const base = await this.defaultBranch(this.mirrorPath(target.server, target.repoPath));
    const out = await git(
      ['diff', '--shortstat', `refs/remotes/origin/${base}...HEAD`],
      target.worktreePath,
    );
    return out === '' ? NO_CHANGES : out;
  }

  /**
   * A file as the remote's default branch has it at the last fetch (`.kugetsu/WORKFLOW.md`);
   * null when the branch has no such file.
   */
  async readDefaultBranchFile(target: WorkspaceTarget, path: string): Promise<string | null> {
    const mirror = this.mirrorPath(target.server, target.repoPath);
    const base = await this.defaultBranch(mirror);
    const spec = `refs/remotes/origin/${base}:${path}`;
    const key = `${mirror}\0${spec}`;
    const fetch = fetchSignature(mirror);
    const cached = this.branchFiles.get(key);
    if (cached !== undefined && fetch !== null && cached.fetch === fetch) return cached.text;
    // git exits non-zero when the branch has no such file: that is the null answer.
    const text = await git(['cat-file', 'blob', spec], mirror).catch((err: unknown) => {
      if (err instanceof GitError) return null;
      throw err;
    });
    if (fetch !== null) this.branchFiles.set(key, { fetch, text });
    return text;
  }

  /** The remote's default branch, as the mirror knows it. */
  baseBranch(target: WorkspaceTarget): Promise<string> {
    return this.defaultBranch(this.mirrorPath(target.server, target.repoPath));
  }

  /** Pushes the session branch to the remote. */
  async pushBranch(target: WorkspaceTarget): Promise<void> {
    const mirror = this.mirrorPath(target.server, target.repoPath);
    await this.repoLocks.run(mirror, async () => {
      try {
        await git(
          ['push', '--quiet', 'origin', `${target.branch}:refs/heads/${target.branch}`],
          target.worktreePath,
          this.credentials(target.server),
        );
      } catch (err) {
        throw gitFailure(target, 'push to', err);
      }
    });
  }

  /** True when the remote has the branch at the worktree's HEAD (nothing would be lost). */
  async isPushed(target: WorkspaceTarget): Promise<boolean> {
    if (!this.isWorktree(target.worktreePath)) return true;
    const head = await git(['rev-parse', 'HEAD'], target.worktreePath);
    const remote = await git(
      ['ls-remote', cloneUrl(target.server, target.repoPath), `refs/heads/${target.branch}`],
      undefined,
      this.credentials(target.server),
    ).catch(() => '');
    return remote.split(/\s+/)[0] === head;
  }

  /**
   * Makes git ignore `pattern` (gitignore syntax) in every worktree of the repository, through
   * the repository's own `info/exclude` — not a `.gitignore`, which would be a change to commit.
   * Idempotent.
   */
  async ignoreInWorktrees(target: WorkspaceTarget, pattern: string): Promise<void> {
    const mirror = this.mirrorPath(target.server, target.repoPath);
    await this.repoLocks.run(mirror, async () => {
      // Worktrees read info/exclude from the common directory: the bare mirror.
      const common = await git(['rev-parse', '--git-common-dir'], target.worktreePath);
      const infoDir = join(isAbsolute(common) ? common : join(target.worktreePath, common), 'info');
      const file = join(infoDir, 'exclude');
      const current = await readFile(file, 'utf8').catch(() => '');
      if (current.split('\n').includes(pattern)) return;
      await mkdir(infoDir, { recursive: true });
      const separator = current === '' || current.endsWith('\n') ? '' : '\n';
      await appendFile(file, `${separator}# kugetsu: files that come with tasks\n${pattern}\n`);
    });
  }

  /** Removes the worktree but keeps its branch: the next `ensureWorktree` makes it anew. */
  async discardWorktree(target: WorkspaceTarget): Promise<void> {
    const mirror = this.mirrorPath(target.server, target.repoPath);
    await this.repoLocks.run(mirror, async () => {
      await gitSucceeds(['worktree', 'remove', '--force', target.worktreePath], mirror);
      await rm(target.worktreePath, { recursive: true, force: true });
      await gitSucceeds(['worktree', 'prune'], mirror);
    });
  }

  /** Removes the worktree and its branch. */
  async remove(target: WorkspaceTarget): Promise<void> {
    const mirror = this.mirrorPath(target.server, target.repoPath);
    await this.repoLocks.run(mirror, async () => {
      if (existsSync(mirror)) {
        await gitSucceeds(['worktree', 'remove', '--force', target.worktreePath], mirror);
        await git(['worktree', 'prune'], mirror);
        await gitSucceeds(['branch', '-D', target.branch], mirror);
      }
      await rm(target.worktreePath, { recursive: true, force: true });
    });
  }
}
