/** `init`, `status` and `doctor`: setting up a home and checking it. */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { assertAgentAvailable } from '../agents/availability.js';
import { agentSessionMeta } from '../agent-sessions.js';
import { loadConfig, renderConfigEnv } from '../config.js';
import { AGENT_NAMES, type AgentName } from '../domain.js';
import { EnvFiles } from '../env-files.js';
import { errorMessage } from '../errors.js';
import { checkServer } from '../forges/server-check.js';
import { isInitialized, openHome, type HomeContext } from '../home-context.js';
import { homePaths, resolveHome, type HomePaths } from '../home.js';
import { openStore } from '../store/open-store.js';
import { baseSessionDir, ensureBaseSession } from './base-session.js';
import { fleetView, workerLine } from './fleet.js';

export type StatusCode =
  'kugetsu_not_initialized' | 'base_session_missing' | 'pm_agent_missing' | 'ok';

/** The core's part of `kugetsu status`; an interface adds its own (src/ composes bot/ for Telegram). */
export interface HomeStatus {
  status: StatusCode;
}

export interface InitResult {
  paths: HomePaths;
  created: boolean;
  /** The base session's state, or why it could not be made (init still succeeds). */
  base: { agent: AgentName; sessionId: string | null } | { agent: AgentName; error: string };
}

/** Creates (or completes) a home, its PM agent directory and the base session. */
export async function initHome(
  env: NodeJS.ProcessEnv = process.env,
  progress: (line: string) => void = () => undefined,
): Promise<InitResult> {
  const paths = homePaths(resolveHome(env));
  const created = !isInitialized(paths, env);
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
  const ctx = await openHome(env, { create: true });
  try {
    await ensurePmAgent(ctx);
    const agent = ctx.config.agent;
    try {
      const record = await ensureBaseSession(ctx, agent, progress);
      return { paths, created, base: { agent, sessionId: record.sessionId } };
    } catch (err) {
      return { paths, created, base: { agent, error: errorMessage(err) } };
    }
  } finally {
    ctx.close();
  }
}

/** The PM agent's directory and record; its agent session begins with its first request. */
export async function ensurePmAgent(ctx: HomeContext): Promise<void> {
  mkdirSync(ctx.paths.pmDir, { recursive: true, mode: 0o700 });
  const meta = agentSessionMeta(ctx.store.meta);
  if ((await meta.pm()) === null) await meta.setPm(ctx.config.pmAgent, null);
}

/** Forgets every agent's base session: the next `init` or `doctor --fix` makes a new one. */
export async function destroyBaseSession(ctx: HomeContext): Promise<void> {
  const meta = agentSessionMeta(ctx.store.meta);
  for (const agent of AGENT_NAMES) await meta.deleteBase(agent);
  rmSync(baseSessionDir(ctx), { recursive: true, force: true });
}

export async function destroyPmAgent(ctx: HomeContext): Promise<void> {
  await agentSessionMeta(ctx.store.meta).deletePm();
  rmSync(ctx.paths.pmDir, { recursive: true, force: true });
}

function describeBase(sessionId: string | null): string {
  return sessionId === null
    ? 'standing instructions go with each new session (this agent cannot fork across directories)'
    : `session ${sessionId}, forked into each new dev session`;
}

/** The first thing missing, in the order a user must fix them. Reads only, so it stays fast. */
export async function homeStatus(env: NodeJS.ProcessEnv = process.env): Promise<HomeStatus> {
  const paths = homePaths(resolveHome(env));
  if (!isInitialized(paths, env)) return { status: 'kugetsu_not_initialized' };
  const config = loadConfig(paths.root, env);
  const { store } = await openStore(paths, config);
  try {
    const meta = agentSessionMeta(store.meta);
    const missing =
      (await meta.base(config.agent)) === null
        ? 'base_session_missing'
        : (await meta.pm()) === null || !existsSync(paths.pmDir)
          ? 'pm_agent_missing'
          : null;
    return { status: missing ?? 'ok' };
  } finally {
    await store.close();
  }
}

export interface DoctorCheck {
  name: string;
  /** `warn` is worth knowing but does not fail the doctor. */
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fixed?: boolean;
}

/**
 * Checks a home; with `fix`, repairs what can be repaired safely. `interfaceChecks` are the
 * interfaces' own (the Telegram bot's, composed by src/), listed before the daemon's.
 */
export async function doctor(
  env: NodeJS.ProcessEnv,
  fix: boolean,
  progress: (line: string) => void = () => undefined,
  interfaceChecks: (ctx: HomeContext) => Promise<DoctorCheck[]> = () => Promise.resolve([]),
): Promise<DoctorCheck[]> {
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
  if (!isInitialized(paths, env)) {
    if (!fix) {
      add(
        'home',
        false,
        `not initialized in ${paths.root}: run \`kugetsu init\` or \`kugetsu doctor --fix\``,
      );
      return checks;
    }
    await initHome(env, progress);
    add('home', true, `initialized ${paths.root}`, true);
  } else {
    add('home', true, paths.root);
  }

  let ctx: HomeContext;
  try {
    ctx = await openHome(env);
    add('config', true, 'config.env and environment are valid');
  } catch (err) {
    add('config', false, errorMessage(err));
    return checks;
  }
  try {
    const integrity = await ctx.store.check();
    const database = ctx.fleet === null ? 'kugetsu.db' : 'PostgreSQL';
    add(
      'database',
      integrity === 'ok',
      integrity === 'ok'
        ? ctx.fleet === null
          ? 'kugetsu.db passes quick_check'
          : `PostgreSQL answers, as worker ${ctx.fleet.worker}`
        : `${database}: ${integrity}`,
    );

    const agent = ctx.config.agent;
    let agentOk = true;
    try {
      assertAgentAvailable(agent, ctx.config, {
        model: ctx.config.model ?? null,
        path: ctx.envFiles.merged(agent)['PATH'] ?? ctx.env['PATH'],
      });
      add('agent', true, `KUGETSU_AGENT=${agent}`);
    } catch (err) {
      agentOk = false;
      add('agent', false, errorMessage(err));
    }

    const meta = agentSessionMeta(ctx.store.meta);
    const base = await meta.base(agent);
    if (base !== null) {
      add('base session', true, describeBase(base.sessionId));
    } else if (!fix || !agentOk) {
      add('base session', false, `missing for ${agent}: run \`kugetsu doctor --fix\``);
    } else {
      try {
        const made = await ensureBaseSession(ctx, agent, progress);
        add('base session', true, `created: ${describeBase(made.sessionId)}`, true);
      } catch (err) {
        add('base session', false, errorMessage(err));
      }
    }

    const pmMissing = (await meta.pm()) === null || !existsSync(ctx.paths.pmDir);
    if (pmMissing && fix) await ensurePmAgent(ctx);
    add(
      'PM agent',
      !pmMissing || fix,
      pmMissing ? (fix ? 'created' : 'missing: run `kugetsu doctor --fix`') : 'present',
      pmMissing && fix ? true : undefined,
    );

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

    const servers = await ctx.store.servers.list();
    add(
      'servers',
      servers.length > 0 || 'warn',
      servers.length > 0
        ? servers.map((s) => `${s.name} (${s.kind})`).join(', ')
        : 'none: add one with `kugetsu server add NAME URL`',
    );
    const verdicts = await Promise.all(
      servers.map((server) => checkServer(server, ctx.forgeToken(server))),
    );
    servers.forEach((server, i) => {
      const verdict = verdicts[i];
      if (verdict !== undefined) add(`server ${server.name}`, verdict.ok, verdict.detail);
    });

    checks.push(...(await interfaceChecks(ctx)));

    const daemon = await ctx.store.locks.daemonOwner();
    add(
      'daemon',
      true,
      daemon === null
        ? 'not running (`kugetsu daemon start`; `delegate` starts it)'
        : `running, pid ${daemon.pid}`,
    );
    const now = Date.now();
    for (const w of (await fleetView(ctx, now))?.workers ?? []) {
      // A dead worker holding tasks is recovered by any live one; it is worth knowing of.
      const healthy = w.alive || w.taskIds.length === 0 || 'warn';
      add(`worker ${w.name}`, healthy, workerLine(w, now));
    }
  } finally {
    ctx.close();
  }
  return checks;
}
