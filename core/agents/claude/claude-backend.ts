import type { AgentBackend, AgentRunRequest } from '../agent-backend.js';
import { requireAgentBinary } from '../agent-binary.js';
import { withDefaults } from '../agent-env.js';
import { claudeOutputParser } from './claude-output.js';

export interface ClaudeSettings {
  permissionMode: string;
  allowedTools: string[];
}

const DEFAULT_ENV = { DISABLE_AUTOUPDATER: '1' };

/**
 * `claude -p --output-format stream-json --verbose`, prompt on stdin. Claude finds a session
 * only from the directory it was made in (or another worktree of that repository), so base
 * sessions cannot be forked into arbitrary worktrees.
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
      args.push('--permission-mode', settings.permissionMode);
      const allowed = [
        ...settings.allowedTools,
        ...request.allowedCommands.map((c) => `Bash(${c}:*)`),
      ];
      if (allowed.length > 0) args.push('--allowedTools', allowed.join(','));
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
