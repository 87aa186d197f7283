import type { AgentBackend, AgentRunRequest } from '../agent-backend.js';
import { requireAgentBinary } from '../agent-binary.js';
import { codexOutputParser } from './codex-output.js';

export interface CodexSettings {
  sandbox: string;
}

/**
 * `codex exec --json`, prompt on stdin (`-`). Codex keeps its sessions in one place, so a base
 * session forks into any worktree (`exec fork`). Its workspace-write sandbox makes everything
 * outside the worktree read-only; the repository's git directory is added as a writable root
 * (objects and refs), but codex still protects the directory a worktree's `.git` file points
 * to, so the agent cannot commit there: kugetsu commits for it.
 */
export function codexBackend(settings: CodexSettings): AgentBackend {
  return {
    name: 'codex',
    instructed: true,
    forksAcrossDirectories: true,
    // Codex's sandbox keeps a worktree's git directory read-only, whatever the writable roots.
    commitsItself: settings.sandbox === 'danger-full-access',
    prepare(request: AgentRunRequest) {
      const file = requireAgentBinary('codex', 'codex', '@openai/codex', request.env['PATH']);
      // `exec resume` rejects -s: the sandbox goes through -c, which every subcommand takes.
      const common = [
        '--json',
        '--skip-git-repo-check',
        '-c',
        `sandbox_mode=${JSON.stringify(settings.sandbox)}`,
      ];
      if (request.writableDirs.length > 0) {
        common.push(
          '-c',
          `sandbox_workspace_write.writable_roots=${JSON.stringify(request.writableDirs)}`,
        );
      }
      if (request.model !== null) common.push('-m', request.model);
      // Attached images: one `--image=PATH` each (the `=` keeps a path a single value).
      for (const image of request.images ?? []) common.push(`--image=${image}`);
      // A login shell's profile resets PATH, and the commands the agent is promised (the PM
      // agent's `kugetsu`) are found through PATH.
      if (request.allowedCommands.length > 0) common.push('-c', 'allow_login_shell=false');
      let args: string[];
      if (request.mode !== 'start' && request.agentSessionId !== null) {
        args = ['exec', 'resume', ...common, request.agentSessionId, '-'];
      } else if (request.forkFrom !== null) {
        args = ['exec', 'fork', ...common, request.forkFrom, '-'];
      } else {
        args = ['exec', ...common, '-'];
      }
      return { file, args, stdin: request.prompt, env: request.env };
    },
    parser: codexOutputParser,
  };
}
