/**
 * The one way kugetsu runs git: execa with an argument array, never a shell. Git never
 * prompts (a headless daemon would hang), and its output is plain C-locale text.
 *
 * Not simple-git: its completion detection waits a fixed 50 ms after every command that
 * prints nothing (`status --porcelain` on a clean tree: 55 ms through simple-git, 4 ms
 * here), which put ~150 ms into every new-issue dispatch (see docs/benchmarks.md).
 */
import type { execa as Execa } from 'execa';

// execa takes ~100 ms to import; commands that never run git (`list`, `queue`) must not pay it.
const loadExeca = async (): Promise<typeof Execa> => (await import('execa')).execa;

const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };

export class GitError extends Error {
  override readonly name = 'GitError';

  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(
      `git ${args[0] ?? ''} failed: ${firstErrorLine(stderr) ?? `exit code ${exitCode ?? '?'}`}`,
    );
  }
}

/**
 * Runs git and returns its trimmed stdout; a non-zero exit rejects with a GitError. `env` adds
 * variables for this call (credentials, see git-auth.ts), never arguments.
 */
export async function git(
  args: readonly string[],
  cwd?: string,
  env?: Record<string, string>,
): Promise<string> {
  const execa = await loadExeca();
  const result = await execa('git', args, {
    cwd,
    env: { ...env, ...GIT_ENV },
    reject: false,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0) throw new GitError(args, result.exitCode, String(result.stderr));
  return String(result.stdout).trim();
}

/** Runs git for its exit status alone: true on exit 0. */
export async function gitSucceeds(args: readonly string[], cwd?: string): Promise<boolean> {
  const execa = await loadExeca();
  const result = await execa('git', args, { cwd, env: GIT_ENV, reject: false, stdin: 'ignore' });
  return result.exitCode === 0;
}

function firstErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0];
}
