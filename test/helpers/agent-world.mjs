// @ts-check
/**
 * Settings that point each real agent CLI at the scripted model server, fully offline, with a
 * home of its own: what a user's own agent set-up would hold, given to kugetsu's environment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @typedef {'opencode' | 'claude' | 'codex'} RealAgent */

/** @type {readonly RealAgent[]} */
export const REAL_AGENTS = ['opencode', 'claude', 'codex'];

/** Agents run with HOME elsewhere, so git needs its identity from the environment. */
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'kugetsu test',
  GIT_AUTHOR_EMAIL: 'agent@kugetsu.test',
  GIT_COMMITTER_NAME: 'kugetsu test',
  GIT_COMMITTER_EMAIL: 'agent@kugetsu.test',
};

/**
 * @param {RealAgent} agent
 * @param {{ url: string }} model  the scripted model server
 * @param {string} dir  a scratch directory for the agent's home
 * @returns {Record<string, string>}
 */
export function agentSettings(agent, model, dir) {
  const home = join(dir, `${agent}-home`);
  const tmp = join(home, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const common = {
    ...GIT_IDENTITY,
    HOME: home,
    TMPDIR: tmp,
    KUGETSU_AGENT: agent,
    KUGETSU_PM_AGENT: agent,
  };
  switch (agent) {
    case 'opencode':
      return {
        ...common,
        OPENCODE_CONFIG_CONTENT: JSON.stringify({
          $schema: 'https://opencode.ai/config.json',
          provider: {
            scripted: {
              npm: '@ai-sdk/openai-compatible',
              options: { baseURL: `${model.url}/v1`, apiKey: 'scripted-key' },
              models: { m: { tool_call: true, limit: { context: 100000, output: 4096 } } },
            },
          },
          model: 'scripted/m',
          small_model: 'scripted/m',
          autoupdate: false,
          share: 'disabled',
        }),
        OPENCODE_DISABLE_AUTOUPDATE: '1',
        OPENCODE_DISABLE_MODELS_FETCH: '1',
        OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
        OPENCODE_DISABLE_SHARE: '1',
        OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
        OPENCODE_DISABLE_CLAUDE_CODE: '1',
        OPENCODE_DISABLE_FFF: '1',
      };
    case 'claude':
      return {
        ...common,
        ANTHROPIC_BASE_URL: model.url,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_ERROR_REPORTING: '1',
      };
    case 'codex': {
      const codexHome = join(home, '.codex');
      mkdirSync(codexHome, { recursive: true });
      writeFileSync(
        join(codexHome, 'config.toml'),
        [
          'model = "m"',
          'model_provider = "scripted"',
          '[model_providers.scripted]',
          'name = "scripted"',
          `base_url = "${model.url}/v1"`,
          'env_key = "SCRIPTED_API_KEY"',
          'wire_api = "responses"',
          'request_max_retries = 0',
          'stream_max_retries = 0',
          '[analytics]',
          'enabled = false',
          '[otel]',
          'exporter = "none"',
          '',
        ].join('\n'),
      );
      return {
        ...common,
        CODEX_HOME: codexHome,
        // These runs test what an agent does unattended; approvals have suites of their own.
        KUGETSU_APPROVAL_POLICY: 'bash=allow,outside=allow,network=allow',
      };
    }
  }
}

/** The API key each agent reads, kept in its env file (`kugetsu env set … AGENT`) like a user would. */
/** @type {Record<RealAgent, string | null>} */
export const API_KEY_VARIABLE = {
  opencode: null,
  claude: 'ANTHROPIC_API_KEY',
  codex: 'SCRIPTED_API_KEY',
};
