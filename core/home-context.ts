/** Opens one KUGETSU_HOME: paths, validated config, store, env files, workspaces, secrets. */
import { existsSync } from 'node:fs';
import { loadConfig, mergeConfigSources, readConfigFile, type Config } from './config.js';
import { SECRET_SETTINGS } from './config/settings.js';
import type { Server } from './domain.js';
import { EnvFiles } from './env-files.js';
import { OperationError } from './errors.js';
import { homePaths, resolveHome, type HomePaths } from './home.js';
import { Scrubber, isSecretKey } from './secrets.js';
import { databasePassword, openStore, type FleetMembership } from './store/open-store.js';
import type { StoreApi } from './store/store-interface.js';
import { gitAuthEnv } from './workspaces/git-auth.js';
import { Workspaces } from './workspaces/workspaces.js';

export interface HomeContext {
  paths: HomePaths;
  config: Config;
  /** The Store seam: every durable fact the core keeps, one transaction per call. */
  store: StoreApi;
  /** With KUGETSU_DATABASE_URL: this machine as one worker of the fleet; null with SQLite. */
  fleet: FleetMembership | null;
  envFiles: EnvFiles;
  workspaces: Workspaces;
  env: NodeJS.ProcessEnv;
  /** A scrubber for every secret known right now (env files change while a daemon runs). */
  scrubber(): Scrubber;
  /** kugetsu's own secrets' keys, withheld from agents unless an env file hands them over. */
  withheldKeys(): string[];
  /**
   * The server's API token: its `--token-env` variable from the environment, then config.env.
   * kugetsu uses it for the forge and for git over HTTPS; agents get it only from an env file.
   */
  forgeToken(server: Server): string | null;
  /**
   * Reads again what the secrets depend on that another process may change (the servers'
   * token variables): a long-lived process calls it before work that may meet a new one.
   */
  refresh(): Promise<void>;
  close(): void;
}

/**
 * A home on a shared database has no database file of its own: `init` wrote its config.env.
 * Whether it uses one is read raw here (validation is `openHome`'s, with its own error).
 */
export function isInitialized(paths: HomePaths, env: NodeJS.ProcessEnv = process.env): boolean {
  const url = mergeConfigSources(env, readConfigFile(paths.root))[DATABASE_URL_KEY];
  return existsSync(url === undefined ? paths.db : paths.configEnv);
}

// Secret-named variables of the process environment are scrubbed too, but short values such
// as `true` would mangle every transcript, so those need some length to count.
const MIN_ENV_SECRET_LENGTH = 8;
// Not a secret by its name, but it carries the database's password.
const DATABASE_URL_KEY = 'KUGETSU_DATABASE_URL';

export async function openHome(
  env: NodeJS.ProcessEnv = process.env,
  options: { create?: boolean } = {},
): Promise<HomeContext> {
  const paths = homePaths(resolveHome(env));
  const fileValues = readConfigFile(paths.root);
  const config = loadConfig(paths.root, env, fileValues);
  const setting = (key: string): string | null => {
    const value = env[key]?.trim() ? env[key] : fileValues[key];
    return value === undefined || value.trim() === '' ? null : value;
  };
  if (options.create !== true && !isInitialized(paths, env)) {
    throw new OperationError(`kugetsu is not initialized in ${paths.root}: run \`kugetsu init\``);
  }
  const { store, fleet } = await openStore(paths, config);
  const close = (): void => void store.close().catch(() => undefined);
  const envFiles = new EnvFiles(paths.envDir);
  const readTokenKeys = async (): Promise<string[]> =>
    (await store.servers.list()).map((s) => s.tokenEnv).filter((k): k is string => k !== null);
  let serverTokenKeys = await readTokenKeys().catch((err: unknown) => {
    close();
    throw err;
  });
  const dbPassword = databasePassword(config.databaseUrl);
  const tokenKeys = (): string[] => serverTokenKeys;
  const forgeToken = (server: Server): string | null =>
    server.tokenEnv === null ? null : setting(server.tokenEnv);
  // Rebuilt only when an env file or the servers' token variables change: the bot asks for a
  // scrubber on every outgoing call, and reading every env file each time is wasted I/O.
  let cached: { key: string; scrubber: Scrubber } | null = null;
  return {
    paths,
    config,
    store,
    fleet,
    envFiles,
    workspaces: new Workspaces(paths.reposDir, (server) =>
      gitAuthEnv(server, forgeToken(server), env),
    ),
    env,
    scrubber() {
      const key = `${envFiles.signature()}#${tokenKeys().join(',')}`;
      if (cached?.key === key) return cached.scrubber;
      const values = envFiles.secretValues();
      for (const { field } of SECRET_SETTINGS) {
        const value = (config as Record<string, unknown>)[field];
        if (typeof value === 'string') values.push(value);
      }
      if (dbPassword !== null) values.push(dbPassword);
      for (const key of tokenKeys()) {
        const value = setting(key);
        if (value !== null) values.push(value);
      }
      for (const [key, value] of Object.entries(env)) {
        if (value !== undefined && value.length >= MIN_ENV_SECRET_LENGTH && isSecretKey(key))
          values.push(value);
      }
      cached = { key, scrubber: new Scrubber(values) };
      return cached.scrubber;
    },
    // Every secret kugetsu keeps for itself (the bot token, the webhook secret, the transcription
    // key), and the forge tokens: agents get them only from an env file.
    withheldKeys: () => [...SECRET_SETTINGS.map((s) => s.key), DATABASE_URL_KEY, ...tokenKeys()],
    forgeToken,
    async refresh() {
      serverTokenKeys = await readTokenKeys();
    },
    close,
  };
}
