import { randomBytes } from 'node:crypto';
import { OperationError, quote } from '../../errors.js';
import type { AgentBackend, AgentRunRequest } from '../agent-backend.js';
import { requireAgentBinary } from '../agent-binary.js';
import { withDefaults } from '../agent-env.js';
import { opencodeDriver, type SessionStart } from './opencode-driver.js';
import { opencodeOutputParser } from './opencode-output.js';
import { configPermission, permissionEnv, sessionRules } from './opencode-permissions.js';

/**
 * Unattended runs must not update themselves or leave per-run files behind (without
 * OPENCODE_DISABLE_FFF every run leaves a 5.5 MB library in $TMPDIR). The user may override.
 */
const DEFAULT_ENV = { OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_FFF: '1' };

/** The server's basic-auth user; the password is new for every run. */
const SERVER_USERNAME = 'kugetsu';

/**
 * `opencode serve` per run, on 127.0.0.1 and a free port, behind a password of its own, driven
 * over HTTP (opencode-driver.ts): `opencode run` refuses every permission it would ask about,
 * its server lets kugetsu answer them. The server is the run's agent process, so its
 * environment, its process group and its pid are the task's, as they were for `opencode run`.
 * The prompt goes over HTTP, never into argv. opencode's fork keeps the forked session's
 * directory, so a base session made elsewhere would run in the wrong place: no cross-directory
 * forks.
 */
export function opencodeBackend(): AgentBackend {
  return {
    name: 'opencode',
    instructed: true,
    forksAcrossDirectories: false,
    commitsItself: true,
    prepare(request: AgentRunRequest) {
      const file = requireAgentBinary('opencode', 'opencode', 'opencode-ai', request.env['PATH']);
      if (request.model !== null && !request.model.includes('/')) {
        throw new OperationError(
          `agent opencode: the model must be provider/model, got ${quote(request.model)}: fix KUGETSU_MODEL or --model`,
        );
      }
      const session: SessionStart =
        request.mode !== 'start' && request.agentSessionId !== null
          ? { kind: 'continue', sessionID: request.agentSessionId }
          : request.forkFrom !== null
            ? { kind: 'fork', from: request.forkFrom }
            : { kind: 'new' };
      const password = randomBytes(24).toString('base64url');
      const env = withDefaults(request.env, DEFAULT_ENV);
      env['OPENCODE_SERVER_USERNAME'] = SERVER_USERNAME;
      env['OPENCODE_SERVER_PASSWORD'] = password;
      env['OPENCODE_PERMISSION'] = permissionEnv(
        request.env['OPENCODE_PERMISSION'],
        configPermission(request.policy, request),
      );
      const driver = opencodeDriver({
        worktree: request.worktree,
        prompt: request.prompt,
        model: request.model,
        session,
        images: request.images ?? [],
        rules: sessionRules(request.policy, request),
        username: SERVER_USERNAME,
        password,
      });
      return {
        file,
        args: ['serve', '--hostname', '127.0.0.1', '--port', '0'],
        stdin: '',
        env,
        driver,
      };
    },
    parser: opencodeOutputParser,
  };
}
