import type { AgentBackend, AgentRunRequest } from '../agent-backend.js';
import { requireAgentBinary } from '../agent-binary.js';
import { policyArgs } from './codex-policy.js';
import { codexDriver, type CodexConversation } from './codex-driver.js';
import { codexOutputParser } from './codex-output.js';

export interface CodexSettings {
  sandbox: string;
}

/**
 * `codex app-server`, spoken to over stdio (JSON-RPC): the prompt goes in a `turn/start`, and
 * codex's approval requests are answered through kugetsu's gate while the agent waits. Codex
 * keeps its sessions (threads) in one place, so a base session forks into any worktree
 * (`thread/fork`). Its workspace-write sandbox makes everything outside the worktree read-only;
 * the repository's git directory is added as a writable root (objects and refs), but codex
 * still protects the directory a worktree's `.git` file points to, so the agent cannot commit
 * there: kugetsu commits for it.
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
      const args = ['app-server', '-c', `sandbox_mode=${JSON.stringify(settings.sandbox)}`];
      if (request.writableDirs.length > 0) {
        args.push(
          '-c',
          `sandbox_workspace_write.writable_roots=${JSON.stringify(request.writableDirs)}`,
        );
      }
      // A login shell's profile resets PATH, and the commands the agent is promised (the PM
      // agent's `kugetsu`) are found through PATH.
      if (request.allowedCommands.length > 0) args.push('-c', 'allow_login_shell=false');
      args.push(...policyArgs(request.policy));
      const open: CodexConversation['open'] =
        request.mode !== 'start' && request.agentSessionId !== null
          ? { mode: 'resume', threadId: request.agentSessionId }
          : request.forkFrom !== null
            ? { mode: 'fork', threadId: request.forkFrom }
            : { mode: 'start' };
      const driver = codexDriver({
        open,
        worktree: request.worktree,
        prompt: request.prompt,
        model: request.model,
        sandbox: settings.sandbox,
        policy: request.policy,
        allowedCommands: request.allowedCommands,
        // Attached images go with the prompt's turn.
        images: request.images ?? [],
      });
      // The prompt travels inside the protocol (`turn/start`), never in argv or raw on stdin.
      return { file, args, stdin: '', env: request.env, driver };
    },
    parser: codexOutputParser,
  };
}
