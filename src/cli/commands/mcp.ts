import { expectPositionals, parse, subcommand } from '../args.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

/**
 * `mcp permissions`: kugetsu's MCP server for claude's `--permission-prompt-tool`, on stdin and
 * stdout. claude starts it (the claude backend passes it in `--mcp-config`) with KUGETSU_HOME,
 * KUGETSU_TASK_ID and KUGETSU_WORKTREE; it is not meant to be run by hand. Stdout belongs to
 * the protocol: diagnostics go to stderr.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  const { positionals } = parse('mcp', argv, {});
  expectPositionals('mcp', positionals, 1, 1, USAGE['mcp'] ?? '');
  subcommand('mcp', positionals[0], ['permissions'] as const);
  const [{ servePermissions }, { packageInfo }] = await Promise.all([
    import('../../../core/agents/claude/permission-server.js'),
    import('../version.js'),
  ]);
  await servePermissions({
    env: process.env,
    input: process.stdin,
    output: process.stdout,
    log: (line) => io.err(line),
    version: packageInfo().version,
    cwd: process.cwd(),
  });
  return 0;
}
