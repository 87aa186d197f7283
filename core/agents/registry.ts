import { AGENT_NAMES } from '../domain.js';
import { UsageError, quote } from '../errors.js';
import type { AgentName } from '../domain.js';
import type { Config } from '../config.js';
import type { AgentBackend } from './agent-backend.js';
import { claudeBackend } from './claude/claude-backend.js';
import { codexBackend } from './codex/codex-backend.js';
import { commandBackend } from './command-backend.js';
import { opencodeBackend } from './opencode/opencode-backend.js';

export type AgentSettings = Pick<
  Config,
  'agentCommand' | 'claudePermissionMode' | 'claudeAllowedTools' | 'codexSandbox' | 'approvalPolicy'
>;

export function agentBackend(name: AgentName, settings: AgentSettings): AgentBackend {
  switch (name) {
    case 'command':
      return commandBackend(settings.agentCommand);
    case 'opencode':
      return opencodeBackend();
    case 'claude':
      return claudeBackend({
        permissionMode: settings.claudePermissionMode,
        allowedTools: settings.claudeAllowedTools,
      });
    case 'codex':
      return codexBackend({ sandbox: settings.codexSandbox });
  }
}

export function parseAgentName(input: string | undefined): AgentName | undefined {
  if (input === undefined) return undefined;
  if ((AGENT_NAMES as readonly string[]).includes(input)) return input as AgentName;
  throw new UsageError(`unknown agent ${quote(input)}: expected one of ${AGENT_NAMES.join(', ')}`);
}
