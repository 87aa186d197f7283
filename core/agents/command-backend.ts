import { OperationError } from '../errors.js';
import type { AgentBackend, AgentInvocation, AgentRunRequest } from './agent-backend.js';
import { plainOutputParser } from './plain-output.js';

/**
 * Runs the user's KUGETSU_AGENT_COMMAND with `sh -c` in the worktree. The command string is
 * the user's own configuration; the prompt never enters it — it arrives on stdin and in
 * KUGETSU_MESSAGE, so a hostile message cannot become shell syntax.
 */
export function commandBackend(command: string | undefined): AgentBackend {
  return {
    name: 'command',
    instructed: false,
    forksAcrossDirectories: false,
    commitsItself: true,
    prepare(request: AgentRunRequest): AgentInvocation {
      if (command === undefined || command.trim() === '') {
        throw new OperationError(
          'agent command is not set: set KUGETSU_AGENT_COMMAND in config.env or the environment',
        );
      }
      return {
        file: 'sh',
        args: ['-c', command],
        stdin: request.prompt,
        env: { ...request.env, KUGETSU_MESSAGE: request.prompt },
      };
    },
    parser: plainOutputParser,
  };
}
