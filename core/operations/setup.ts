/** `init`, `status` and `doctor`: setting up a home and checking it. */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { assertAgentAvailable } from '../agents/availability.js';
import { renderConfigEnv } from '../config.js';
import { EnvFiles } from '../env-files.js';
import { errorMessage } from '../errors.js';
import { isInitialized, openHome, type HomeContext } from '../home-context.js';
import { homePaths, resolveHome, type HomePaths } from '../home.js';
import { Store } from '../store/store.js';
import { approvedUsers } from './pairing.js';

export type StatusCode =
  'kugetsu_not_initialized' | 'base_session_missing' | 'pm_agent_missing' | 'ok';

const BASE_SESSION = 'base_session';
const PM_AGENT = 'pm_agent';

export function initHome(env: NodeJS.ProcessEnv = process.env): {
  paths: HomePaths;
  created: boolean;
} {
  const paths = homePaths(resolveHome(env));
  const created = !isInitialized(paths);
  for (const dir of [
    paths.root,
    paths.reposDir,
    paths.worktreesDir,
    paths.logsDir,
    paths.transcriptsDir,
  ]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  if (!existsSync(paths.configEnv))
    writeFileSync(paths.configEnv, renderConfigEnv(), { mode: 0o600 });
  new EnvFiles(paths.envDir).ensure(['default', 'pm-agent']);
  const ctx = openHome(env, { create: true });
  try {
    ensureBaseSession(ctx);
    ensurePmAgent(ctx);
  } finally {
    ctx.close();
  }
  return { paths, created };
}

/**
 * The base session holds kugetsu's standing instructions that new dev sessions fork from.
 * For the `command` agent it is a record only; agent CLIs create a real one.
 */
export function ensureBaseSession(ctx: HomeContext): void {
  if (ctx.store.getMeta(BASE_SESSION) === null) {
    ctx.store.setMeta(
      BASE_SESSION,
      JSON.stringify({ agent: ctx.config.agent, createdAt: Date.now() }),
    );
  }
}

export function ensurePmAgent(ctx: HomeContext): void {
  mkdirSync(ctx.paths.pmDir, { recursive: true, mode: 0o700 });
  if (ctx.store.getMeta(PM_AGENT) === null) {
    ctx.store.setMeta(
      PM_AGENT,
      JSON.stringify({ agent: ctx.config.pmAgent, createdAt: Date.now() }),
    );
  }
}

export function destroyBaseSession(ctx: HomeContext): void {
  ctx.store.deleteMeta(BASE_SESSION);
}

export function destroyPmAgent(ctx: HomeContext): void {
  ctx.store.deleteMeta(PM_AGENT);
  rmSync(ctx.paths.pmDir, { recursive: true, force: true });
}

/** The first thing missing, in the order a user must fix them. Reads only. */
export function homeStatus(env: NodeJS.ProcessEnv = process.env): StatusCode {
  const paths = homePaths(resolveHome(env));
  if (!isInitialized(paths)) return 'kugetsu_not_initialized';
  const store = Store.open(paths.db);
  try {
    if (store.getMeta(BASE_SESSION) === null) return 'base_session_missing';
    if (store.getMeta(PM_AGENT) === null || !existsSync(paths.pmDir)) return 'pm_agent_missing';
    return 'ok';
  } finally {
    store.close();
  }
}

export interface DoctorCheck {
  name: string;
  /** `warn` is worth knowing but does not fail the doctor. */
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fixed?: boolean;
}

/** Checks a home; with `fix`, repairs what can be repaired safely. */
export function doctor(env: NodeJS.ProcessEnv, fix: boolean): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean | 'warn', detail: string, fixed?: boolean): void => {
    const status = ok === 'warn' ? 'warn' : ok ? 'ok' : 'fail';
    checks.push(fixed === true ? { name, status, detail, fixed } : { name, status, detail });
  };

  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    add('git', true, 'git is on PATH');
  } catch {
    add('git', false, 'git is not on PATH: install git');
  }

  const paths = homePaths(resolveHome(env));
  if (!isInitialized(paths)) {
    if (!fix) {
      add(
        'home',
        false,
        `not initialized in ${paths.root}: run \`kugetsu init\` or \`kugetsu doctor --fix\``,
      );
      return checks;
    }
    initHome(env);
    add('home', true, `initialized ${paths.root}`, true);
  } else {
    add('home', true, paths.root);
  }

  let ctx: HomeContext;
  try {
    ctx = openHome(env);
    add('config', true, 'config.env and environment are valid');
  } catch (err) {
    add('config', false, errorMessage(err));
    return checks;
  }
  try {
    const integrity = ctx.store.db.pragma('quick_check', { simple: true });
    add(
      'database',
      integrity === 'ok',
      integrity === 'ok' ? 'kugetsu.db passes quick_check' : `kugetsu.db: ${String(integrity)}`,
    );

    const baseMissing = ctx.store.getMeta(BASE_SESSION) === null;
    if (baseMissing && fix) ensureBaseSession(ctx);
    add(
      'base session',
      !baseMissing || fix,
      baseMissing ? (fix ? 'created' : 'missing: run `kugetsu doctor --fix`') : 'present',
      baseMissing && fix ? true : undefined,
    );

    const pmMissing = ctx.store.getMeta(PM_AGENT) === null || !existsSync(ctx.paths.pmDir);
    if (pmMissing && fix) ensurePmAgent(ctx);
    add(
      'PM agent',
      !pmMissing || fix,
      pmMissing ? (fix ? 'created' : 'missing: run `kugetsu doctor --fix`') : 'present',
      pmMissing && fix ? true : undefined,
    );

    try {
      assertAgentAvailable(ctx.config.agent, ctx.config.agentCommand);
      add('agent', true, `KUGETSU_AGENT=${ctx.config.agent}`);
    } catch (err) {
      add('agent', false, errorMessage(err));
    }

    for (const scope of ctx.envFiles.scopes()) {
      const file = ctx.envFiles.path(scope);
      const mode = statSync(file).mode & 0o777;
      if (mode !== 0o600 && fix) chmodSync(file, 0o600);
      add(
        `env/${scope}.env`,
        mode === 0o600 || fix,
        mode === 0o600
          ? 'mode 0600'
          : fix
            ? 'mode set to 0600'
            : `mode ${mode.toString(8)}: run \`kugetsu doctor --fix\``,
        mode !== 0o600 && fix ? true : undefined,
      );
    }

    const servers = ctx.store.listServers();
    add(
      'servers',
      servers.length > 0 || 'warn',
      servers.length > 0
        ? servers.map((s) => `${s.name} (${s.kind})`).join(', ')
        : 'none: add one with `kugetsu server add NAME URL`',
    );

    if (ctx.config.telegramBotToken !== undefined) {
      const allowed = ctx.config.telegramAllowedUsers.length + approvedUsers(ctx.store).length;
      add(
        'telegram',
        allowed > 0 || 'warn',
        allowed > 0
          ? `${allowed} allowed user(s), ${ctx.config.telegramNotifyChats.length} notify chat(s)`
          : 'TELEGRAM_ALLOWED_USERS is empty: the bot refuses everyone; send it /start and run `kugetsu bot allow CODE`',
      );
    }

    const daemon = ctx.store.daemonOwner();
    add(
      'daemon',
      true,
      daemon === null
        ? 'not running (`kugetsu daemon start`; `delegate` starts it)'
        : `running, pid ${daemon.pid}`,
    );
  } finally {
    ctx.close();
  }
  return checks;
}
