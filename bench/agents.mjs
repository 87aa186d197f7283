/**
 * The real agent CLIs under kugetsu, against the scripted model server (offline): per backend,
 *   overhead   task claimed → the agent's first model request (kugetsu's work plus the CLI's
 *              start-up), median of RUNS one-turn tasks, one at a time, each on a new issue;
 *   task       task queued → task finished (whole one-turn task, worktree creation included);
 *   peak RSS   the agent's whole process tree, sampled every 25 ms.
 * opencode's backend is one `opencode serve` per run, codex's a `codex app-server`, claude's
 * `claude -p`. Then, without kugetsu, opencode's two ways to run a task side by side in a new
 * directory each: `opencode run --format json` (what kugetsu ran before), and `opencode serve`
 * started, prompted over HTTP and stopped (what it runs now, for approvals). Then opencode as a
 * long-lived `opencode serve`, driven through @opencode-ai/sdk: the same one-turn prompt in a
 * fresh session each time, measured from the call. And codex's two ways to
 * run a task side by side, without kugetsu: `codex exec --json` (what kugetsu ran before) and
 * `codex app-server` spoken to by kugetsu's own driver (what it runs now, for approvals).
 */
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import console from 'node:console';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { codexDriver } from '../dist/core/agents/codex/codex-driver.js';
import { parsePolicy, policyFor } from '../dist/core/approvals/policy.js';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';
import { agentSettings, API_KEY_VARIABLE, REAL_AGENTS } from '../test/helpers/agent-world.mjs';
import { ModelServer } from '../test/helpers/model-server.mjs';
import {
  delay,
  fmt,
  git,
  heading,
  line,
  makeWorld,
  median,
  note,
  waitForTask,
  wallMs,
} from './lib.mjs';

const RUNS = Number(process.env['BENCH_AGENT_RUNS'] ?? 5);
/** `BENCH_AGENTS=codex` measures only those agents (comma-separated); every one by default. */
const ONLY = (process.env['BENCH_AGENTS'] ?? '').split(',').filter((a) => a !== '');
const measured = (agent) => ONLY.length === 0 || ONLY.includes(agent);
const OPENCODE_BIN = join(process.cwd(), 'node_modules', '.bin', 'opencode');

/** Sum of VmRSS (MB) of live processes whose environment names the task. */
function treeRssMb(taskId) {
  let kb = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(`KUGETSU_TASK_ID=${taskId}`)) continue;
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (m !== null) kb += Number(m[1]);
    } catch {
      // exited between the listing and the read
    }
  }
  return kb / 1024;
}

async function benchBackend(agent, model) {
  const world = makeWorld({ maxAgents: 1 });
  Object.assign(world.env, agentSettings(agent, model, world.dir), { KUGETSU_AGENT: agent });
  const key = API_KEY_VARIABLE[agent];
  if (key !== null) world.cliSync(['env', 'set', key, 'bench-key', agent]);
  world.startDaemon();
  const store = openSqliteStore(world.db);
  const overhead = [];
  const total = [];
  let peak = 0;
  try {
    for (let i = 1; i <= RUNS; i++) {
      const script = `bench-${agent}-${i}`;
      model.script(script, [{ answer: 'DONE' }]);
      const out = JSON.parse(
        world.cliSync([
          'start',
          `local/me/app#${i}`,
          `Say done [[${script}]]`,
          '--detach',
          '--json',
        ]),
      );
      const id = out.task.id;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, treeRssMb(id));
          await delay(25);
        }
      })();
      const task = await waitForTask(store, id, 120_000);
      sampling = false;
      await sampler;
      if (task.state !== 'completed') throw new Error(`${agent} task ${id}: ${task.lastError}`);
      const first = model.requestsFor(script)[0];
      overhead.push(first.at - task.startedAt);
      total.push(task.finishedAt - task.createdAt);
    }
  } finally {
    await store.close();
    world.cleanup();
  }
  return { overhead: median(overhead), total: median(total), peak };
}

/** Resolves with the child's exit, and the time it happened. */
function exitOf(child) {
  return new Promise((resolve) => child.once('exit', () => resolve(wallMs())));
}

/** The URL `opencode serve` prints once it listens. */
function listening(server) {
  return new Promise((resolve, reject) => {
    let seen = '';
    server.stdout.on('data', (d) => {
      seen += d;
      const m = /listening on (https?:\/\/\S+)/.exec(seen);
      if (m !== null) resolve(m[1]);
    });
    server.once('exit', (code) => reject(new Error(`opencode serve exited ${code}: ${seen}`)));
  });
}

/**
 * opencode per task without kugetsu: `run` against `serve` + HTTP + stop, in a new directory
 * each time, alternating so that both see the same machine.
 */
async function benchOpencodePerTask(model) {
  const world = makeWorld({ maxAgents: 1 });
  const env = { ...world.env, ...agentSettings('opencode', model, world.dir) };
  const result = { run: { first: [], total: [] }, serve: { up: [], first: [], total: [] } };
  try {
    for (let i = 1; i <= RUNS; i++) {
      for (const mode of ['run', 'serve']) {
        const dir = join(world.dir, `task-${mode}-${i}`);
        mkdirSync(dir);
        git(dir, ['init', '--quiet']);
        const script = `per-task-${mode}-${i}`;
        model.script(script, [{ answer: 'DONE' }]);
        const prompt = `Say done [[${script}]]`;
        const childEnv = { ...env, PWD: dir, OPENCODE_SERVER_PASSWORD: `bench-${i}` };
        const startedAt = wallMs();
        if (mode === 'run') {
          const child = spawn(OPENCODE_BIN, ['run', '--format', 'json'], {
            cwd: dir,
            env: childEnv,
            stdio: ['pipe', 'ignore', 'ignore'],
          });
          const exited = exitOf(child);
          child.stdin.end(prompt);
          const endedAt = await exited;
          result.run.first.push(model.requestsFor(script)[0].at - startedAt);
          result.run.total.push(endedAt - startedAt);
          continue;
        }
        const server = spawn(OPENCODE_BIN, ['serve', '--hostname', '127.0.0.1', '--port', '0'], {
          cwd: dir,
          env: childEnv,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        const exited = exitOf(server);
        const url = await listening(server);
        result.serve.up.push(wallMs() - startedAt);
        const client = createOpencodeClient({
          baseUrl: url,
          headers: {
            authorization: `Basic ${Buffer.from(`opencode:bench-${i}`).toString('base64')}`,
          },
        });
        const session = await client.session.create({ query: { directory: dir } });
        await client.session.prompt({
          path: { id: session.data.id },
          query: { directory: dir },
          body: { parts: [{ type: 'text', text: prompt }] },
        });
        server.kill('SIGTERM');
        const endedAt = await exited;
        result.serve.first.push(model.requestsFor(script)[0].at - startedAt);
        result.serve.total.push(endedAt - startedAt);
      }
    }
  } finally {
    world.cleanup();
  }
  return {
    run: { first: median(result.run.first), total: median(result.run.total) },
    serve: {
      up: median(result.serve.up),
      first: median(result.serve.first),
      total: median(result.serve.total),
    },
  };
}

async function benchOpencodeServe(model) {
  const world = makeWorld({ maxAgents: 1 });
  const env = { ...world.env, ...agentSettings('opencode', model, world.dir) };
  const startedAt = wallMs();
  const server = spawn(
    join(process.cwd(), 'node_modules', '.bin', 'opencode'),
    ['serve', '--hostname', '127.0.0.1', '--port', '0'],
    { cwd: world.repo, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const url = await new Promise((resolve, reject) => {
      let seen = '';
      server.stdout.on('data', (d) => {
        seen += d;
        const m = /listening on (https?:\/\/\S+)/.exec(seen);
        if (m !== null) resolve(m[1]);
      });
      server.once('exit', (code) => reject(new Error(`opencode serve exited ${code}: ${seen}`)));
    });
    const startup = wallMs() - startedAt;
    const client = createOpencodeClient({ baseUrl: url });
    // kugetsu gives every issue a worktree of its own, and opencode serve bootstraps an instance
    // per directory: a new task's first prompt pays that, a continued session does not.
    const promptIn = async (directory, script) => {
      model.script(script, [{ answer: 'DONE' }]);
      const asked = wallMs();
      const session = await client.session.create({ query: { directory } });
      await client.session.prompt({
        path: { id: session.data.id },
        query: { directory },
        body: {
          model: { providerID: 'scripted', modelID: 'm' },
          parts: [{ type: 'text', text: `Say done [[${script}]]` }],
        },
      });
      return { total: wallMs() - asked, overhead: model.requestsFor(script)[0].at - asked };
    };
    const fresh = [];
    const again = [];
    for (let i = 1; i <= RUNS; i++) {
      const directory = join(world.dir, `worktree-${i}`);
      mkdirSync(directory);
      git(directory, ['init', '--quiet']);
      fresh.push(await promptIn(directory, `bench-serve-${i}`));
      again.push(await promptIn(directory, `bench-serve-${i}-again`));
    }
    const overhead = median(fresh.map((r) => r.overhead));
    const total = median(fresh.map((r) => r.total));
    const againOverhead = median(again.map((r) => r.overhead));
    const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) / 1024;
    return { startup, overhead, total, againOverhead, peak: hwm };
  } finally {
    // It writes under its HOME until it exits: removing the world before then races it.
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      // opencode serve may not act on SIGTERM while it has sessions open.
      const forced = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    }
    world.cleanup();
  }
}

/**
 * One one-turn codex task without kugetsu, in a new directory as kugetsu gives each task:
 * spawn → first model request, spawn → the answer (exec: its exit; app-server: turn/completed),
 * and spawn → exit (app-server leaves when its input ends).
 */
async function codexOnce(mode, model, world, i) {
  const script = `bench-codex-${mode}-${i}`;
  model.script(script, [{ answer: 'DONE' }]);
  const cwd = join(world.dir, `${mode}-${i}`);
  mkdirSync(cwd);
  const env = { ...world.env, ...agentSettings('codex', model, world.dir), SCRIPTED_API_KEY: 'k' };
  const file = join(process.cwd(), 'node_modules', '.bin', 'codex');
  const prompt = `Say done [[${script}]]`;
  const sandbox = ['-c', 'sandbox_mode="workspace-write"'];
  const args =
    mode === 'exec'
      ? ['exec', '--json', '--skip-git-repo-check', ...sandbox, '-']
      : ['app-server', ...sandbox];
  const started = wallMs();
  const child = spawn(file, args, { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] });
  let answered = null;
  const exited = new Promise((resolve) => child.once('exit', () => resolve(wallMs())));
  if (mode === 'exec') {
    child.stdin.end(prompt);
    const end = await exited;
    answered = end;
  } else {
    const driver = codexDriver({
      open: { mode: 'start' },
      worktree: cwd,
      prompt,
      model: null,
      sandbox: 'workspace-write',
      policy: policyFor(parsePolicy('bash=allow,outside=allow,network=allow'), 'codex'),
      allowedCommands: [],
    });
    let partial = '';
    child.stdout.on('data', (chunk) => {
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) !== -1) {
        driver.line(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    const done = new Promise((resolve) => {
      const controller = new globalThis.AbortController();
      driver.start({
        write: (text) => child.stdin.write(text),
        // kugetsu ends the process group right after; here the exit on end of input is timed.
        endInput: () => child.stdin.end(),
        emit: () => undefined,
        ask: () => Promise.reject(new Error('nothing is asked in the bench')),
        note: () => undefined,
        finish: (result) => resolve(result),
        signal: controller.signal,
      });
    });
    const result = await done;
    if (result.error !== null) throw new Error(`codex app-server: ${result.error}`);
    answered = wallMs();
  }
  const end = await exited;
  const first = model.requestsFor(script)[0];
  if (first === undefined) throw new Error(`codex ${mode} made no model request`);
  return { first: first.at - started, answered: answered - started, exit: end - started };
}

async function benchCodexModes(model) {
  const world = makeWorld({ maxAgents: 1 });
  const runs = { exec: [], 'app-server': [] };
  try {
    for (let i = 1; i <= RUNS; i++) {
      // Alternated, so a slower minute of the machine weighs on both.
      for (const mode of ['exec', 'app-server'])
        runs[mode].push(await codexOnce(mode, model, world, i));
    }
  } finally {
    world.cleanup();
  }
  const summary = (rs) => ({
    first: median(rs.map((r) => r.first)),
    answered: median(rs.map((r) => r.answered)),
    exit: median(rs.map((r) => r.exit)),
  });
  return { exec: summary(runs.exec), appServer: summary(runs['app-server']) };
}

const model = await ModelServer.start();
try {
  heading(`agents: one-turn tasks against the scripted model server, median of ${RUNS}`);
  for (const agent of REAL_AGENTS.filter(measured)) {
    const r = await benchBackend(agent, model);
    line(
      `${agent} per task`,
      `overhead ${fmt(r.overhead, 0)} ms · task ${fmt(r.total, 0)} ms · peak RSS ${fmt(r.peak, 0)} MB`,
    );
  }
  if (measured('opencode')) {
    const direct = await benchOpencodePerTask(model);
    line(
      'opencode run, no kugetsu',
      `spawn → first request ${fmt(direct.run.first, 0)} ms · spawn → exit ${fmt(direct.run.total, 0)} ms`,
    );
    line(
      'opencode serve, no kugetsu',
      `spawn → listening ${fmt(direct.serve.up, 0)} ms · → first request ${fmt(direct.serve.first, 0)} ms · spawn → exit ${fmt(direct.serve.total, 0)} ms`,
    );
    const serve = await benchOpencodeServe(model);
    line(
      'opencode serve + sdk',
      `new worktree: overhead ${fmt(serve.overhead, 0)} ms · prompt ${fmt(serve.total, 0)} ms · same worktree again: overhead ${fmt(serve.againOverhead, 0)} ms · server RSS peak ${fmt(serve.peak, 0)} MB · start-up ${fmt(serve.startup, 0)} ms (once)`,
    );
  }
  if (measured('codex')) {
    const codex = await benchCodexModes(model);
    const timings = (r) =>
      `spawn → first request ${fmt(r.first, 0)} ms · → answer ${fmt(r.answered, 0)} ms · → exit ${fmt(r.exit, 0)} ms`;
    line('codex exec --json', timings(codex.exec));
    line('codex app-server + driver', timings(codex.appServer));
  }
  note(
    'overhead: claim → first model request (kugetsu + CLI start-up); task: queued → finished, worktree included. serve + sdk: call → first request, and the whole prompt call. opencode run/serve and codex modes: without kugetsu, a new directory each run.',
  );
} finally {
  await model.close();
}
console.log('');
