import { OperationError, quote } from '../../errors.js';
import type { AgentBackend, AgentRunRequest } from '../agent-backend.js';
import { requireAgentBinary } from '../agent-binary.js';
import { withDefaults } from '../agent-env.js';
import { opencodeOutputParser } from './opencode-output.js';

/**
 * Unattended runs must not update themselves or leave per-run files behind (without
 * OPENCODE_DISABLE_FFF every run leaves a 5.5 MB library in $TMPDIR). The user may override.
 */
const DEFAULT_ENV = { OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_FFF: '1' };

/**
 * `opencode run --format json`, prompt on stdin: a positional prompt with spaces reaches the
 * model wrapped in quotes. opencode's `--fork` keeps the forked session's directory, so a base
 * session made elsewhere would run in the wrong place: no cross-directory forks.
 */
export function opencodeBackend(): AgentBackend {
  return {
    name: 'opencode',
    instructed: true,
    forksAcrossDirectories: false,
    commitsItself: true,
    prepare(request: AgentRunRequest) {
      const file = requireAgentBinary('opencode', 'opencode', 'opencode-ai', request.env['PATH']);
      const args = ['run', '--format', 'json'];
      if (request.model !== null) {
        if (!request.model.includes('/')) {
          throw new OperationError(
            `agent opencode: the model must be provider/model, got ${quote(request.model)}: fix KUGETSU_MODEL or --model`,
          );
        }
        args.push('-m', request.model);
      }
      // Attached images: one `--file=PATH` each (the `=` keeps a path a single value).
      for (const image of request.images ?? []) args.push(`--file=${image}`);
      if (request.mode !== 'start' && request.agentSessionId !== null) {
        args.push('--session', request.agentSessionId);
      } else if (request.forkFrom !== null) {
        args.push('--session', request.forkFrom, '--fork');
      }
      return { file, args, stdin: request.prompt, env: withDefaults(request.env, DEFAULT_ENV) };
    },
    parser: opencodeOutputParser,
  };
}
