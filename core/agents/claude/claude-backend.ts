import type { AgentBackend, AgentRunRequest } from '../agent-backend.js';
import { requireAgentBinary } from '../agent-binary.js';
import { withDefaults } from '../agent-env.js';
import { claudeOutputParser } from './claude-output.js';
import {
  PERMISSION_PROMPT_TOOL,
  claudePermissionFlags,
  permissionServerConfig,
} from './claude-policy.js';

export interface ClaudeSettings {
  /** KUGETSU_CLAUDE_PERMISSION_MODE; null: from KUGETSU_APPROVAL_POLICY (see claude-policy). */
  permissionMode: string | null;
  allowedTools: string[];
}

const DEFAULT_ENV = { DISABLE_AUTOUPDATER: '1' };

/**
 * `claude -p --output-format stream-json --verbose`, prompt on stdin. Claude finds a session
 * only from the directory it was made in (or another worktree of that repository), so base
 * sessions cannot be forked into arbitrary worktrees.
 *
 * With a permission server, what claude would ask about goes to kugetsu's MCP tool
 * (`--permission-prompt-tool`) and waits there for an answer; without one, claude refuses it
 * and the parser reports the refusal as a question.
 */
export function claudeBackend(settings: ClaudeSettings): AgentBackend {
  return {
    name: 'claude',
    instructed: true,
    forksAcrossDirectories: false,
    commitsItself: true,
    prepare(request: AgentRunRequest) {
      const file = requireAgentBinary(
        'claude',
        'claude',
        '@anthropic-ai/claude-code',
        request.env['PATH'],
      );
      const args = ['-p', '--output-format', 'stream-json', '--verbose'];
      const flags = claudePermissionFlags({
        policy: request.policy,
        permissionMode: settings.permissionMode,
        allowedTools: settings.allowedTools,
        allowedCommands: request.allowedCommands,
        asksKugetsu: request.permissionServer !== null,
      });
      args.push('--permission-mode', flags.permissionMode);
      if (flags.allowedTools.length > 0) args.push('--allowedTools', flags.allowedTools.join(','));
      if (flags.disallowedTools.length > 0)
        args.push('--disallowedTools', flags.disallowedTools.join(','));
      const server = request.permissionServer;
      if (server !== null) {
        // argv is visible to every local user: the config names the home, the task and the
        // worktree, never a credential (the server reads those from the home itself).
        const config = permissionServerConfig({
          ...server,
          env: { ...server.env, KUGETSU_WORKTREE: request.worktree },
        });
        args.push('--mcp-config', config, '--permission-prompt-tool', PERMISSION_PROMPT_TOOL);
      }
      if (request.model !== null) args.push('--model', request.model);
      if (request.mode !== 'start' && request.agentSessionId !== null) {
        args.push('--resume', request.agentSessionId);
      } else if (request.forkFrom !== null) {
        args.push('--resume', request.forkFrom, '--fork-session');
      }
      return { file, args, stdin: request.prompt, env: withDefaults(request.env, DEFAULT_ENV) };
    },
    parser: claudeOutputParser,
  };
}
