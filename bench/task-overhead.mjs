/**
 * Per-task overhead: kugetsu running a no-op agent on a new issue vs the bare cost of the same
 * thing by hand. Both sides run one task at a time, 30 tasks each, on new issues.
 *
 *   bare:     `git -C <bare clone> worktree add -b bN <path> main`, then spawn `sh -c true`
 *             in that worktree (both from this Node process, synchronously).
 *   kugetsu:  KUGETSU_AGENT_COMMAND=true (so the agent is `sh -c true` too), one agent at a
 *             time (MAX_CONCURRENT_AGENTS=1). Measured three ways:
 *               inside      createdAt → finishedAt of the task (enqueue in-process + wake-up):
 *                           no CLI start-up;
 *               delegate    spawn `kugetsu delegate "#N …"` → the task's finishedAt;
 *               start       wall time of a whole `kugetsu start #N … --json` process (waits for
 *                           the task; it polls the store every 100 ms).
 *
 * The no-op agent commits nothing, so nothing is pushed back to the file:// origin.
 */
import { execFile, execFileSync } from 'node:child_process';
import console from 'node:console';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { promisify } from 'node:util';
import { simpleGit } from 'simple-git';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';
import { wakeDaemon } from '../dist/core/wake-channel.js';
import {
  GIT_ENV,
  fmt,
  heading,
  line,
  makeWorld,
  mean,
  median,
  note,
  verdict,
  waitForTask,
  wallMs,
} from './lib.mjs';

const N = 30;
const execFileAsync = promisify(execFile);
// Issue 14's targets: per task inside the daemon, and a whole `kugetsu delegate` to the end.
const TARGET_INSIDE = 2;
const TARGET_CLI = 4;

const world = makeWorld({ agentCommand: 'true', maxAgents: 1 });
const gitEnv = { ...world.env, ...GIT_ENV };

function gitSync(args, cwd) {
  execFileSync('git', args, { cwd, env: gitEnv, stdio: 'ignore' });
}

function timeOnce(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function newTask(store, n) {
  return store.tasks.enqueue(
    {
      kind: 'dev',
      mode: 'start',
      issueRef: `local/me/app#${n}`,
      message: `no-op ${n}`,
      agent: 'command',
      maxAttempts: 1,
    },
    world.sessionFor(n),
  );
}

/** The shim's log: `{ silent, args }` per git call. */
function readCalls(path) {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((row) => {
      const [out, err, ...args] = row.trim().split(/\s+/);
      return { silent: Number(out) + Number(err) === 0, args: args.join(' ') };
    });
}

/** Mean ms of `runs` awaited calls. */
async function meanOf(runs, fn) {
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return mean(times);
}

function perTask(label, times) {
  line(
    label,
    `mean ${fmt(mean(times))} · median ${fmt(median(times))} ms per task (n=${times.length})`,
  );
}

try {
  heading(`per-task overhead (${N} no-op tasks on new issues, one at a time)`);

  // ---- bare ----
  const bare = join(world.dir, 'bare.git');
  gitSync(['clone', '--bare', '--quiet', `file://${world.repo}`, bare]);
  mkdirSync(join(world.dir, 'bare-wt'));
  const bareTimes = [];
  for (let n = 1; n <= N; n += 1) {
    const wt = join(world.dir, 'bare-wt', String(n));
    bareTimes.push(
      timeOnce(() => {
        gitSync(['-C', bare, 'worktree', 'add', '--quiet', '-b', `b${n}`, wt, 'main']);
        execFileSync('sh', ['-c', 'true'], { cwd: wt, stdio: 'ignore' });
      }),
    );
  }
  // Reference costs of the single git steps kugetsu adds (same machine, same repo).
  const fetchTimes = [];
  const trivialTimes = [];
  for (let i = 0; i < 10; i += 1) {
    fetchTimes.push(timeOnce(() => gitSync(['fetch', '--prune', '--quiet', 'origin'], bare)));
    trivialTimes.push(
      timeOnce(() =>
        gitSync(['rev-parse', '--is-inside-work-tree'], join(world.dir, 'bare-wt', '1')),
      ),
    );
  }

  // simple-git (kugetsu's git layer) vs a plain execFile, for a call that prints and one that
  // prints nothing (a clean `status --porcelain`).
  const wt1 = join(world.dir, 'bare-wt', '1');
  const sg = () => simpleGit({ baseDir: wt1, trimmed: true });
  const sgPrints = await meanOf(10, () => sg().raw(['rev-parse', 'HEAD']));
  const sgSilent = await meanOf(10, () => sg().raw(['status', '--porcelain']));
  const execSilent = await meanOf(10, () =>
    execFileAsync('git', ['status', '--porcelain'], { cwd: wt1, env: gitEnv }),
  );

  // ---- kugetsu ----
  const store = openSqliteStore(world.db);
  world.startDaemon();
  // Warm-up (not counted): creates the bare mirror under repos/ with a full clone.
  const warmUp = await newTask(store, 9_000);
  await wakeDaemon(world.socket);
  await waitForTask(store, warmUp.id);

  const inside = [];
  for (let n = 1; n <= N; n += 1) {
    const task = await newTask(store, n);
    await wakeDaemon(world.socket);
    const done = await waitForTask(store, task.id);
    if (done.state !== 'completed') throw new Error(`task #${task.id} ended ${done.state}`);
    inside.push(done.finishedAt - done.createdAt);
  }

  const viaDelegate = [];
  for (let n = N + 1; n <= 2 * N; n += 1) {
    const t0 = wallMs();
    const { code, stdout, stderr } = await world.cli(['delegate', `#${n} no-op`, '--json']);
    if (code !== 0) throw new Error(`kugetsu delegate failed (${code}): ${stderr}`);
    const done = await waitForTask(store, JSON.parse(stdout).taskId);
    if (done.state !== 'completed') throw new Error(`task #${done.id} ended ${done.state}`);
    viaDelegate.push(done.finishedAt - t0);
  }

  const viaStart = [];
  for (let n = 2 * N + 1; n <= 3 * N; n += 1) {
    const t0 = performance.now();
    const { code, stderr } = await world.cli(['start', `#${n}`, 'no-op', '--json']);
    viaStart.push(performance.now() - t0);
    if (code !== 0) throw new Error(`kugetsu start failed (${code}): ${stderr}`);
  }

  const pushed = store.db.get(`SELECT COUNT(*) AS n FROM tasks WHERE result LIKE '%push%'`).n;

  // ---- git calls per task, counted with a logging shim on PATH (separate, untimed) ----
  world.stopDaemon();
  const shimDir = join(world.dir, 'shim');
  const gitLog = join(world.dir, 'git-calls.log');
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  mkdirSync(shimDir);
  // Records each call with the bytes it wrote to stdout and stderr (simple-git sleeps 50 ms
  // after a git process that printed nothing at all).
  writeFileSync(
    join(shimDir, 'git'),
    [
      '#!/bin/sh',
      'o=$(mktemp) e=$(mktemp)',
      `'${realGit}' "$@" >"$o" 2>"$e"`,
      'rc=$?',
      'cat "$o"; cat "$e" >&2',
      `printf '%s %s %s\\n' "$(wc -c <"$o")" "$(wc -c <"$e")" "$*" >> '${gitLog}'`,
      'rm -f "$o" "$e"',
      'exit $rc',
      '',
    ].join('\n'),
  );
  chmodSync(join(shimDir, 'git'), 0o755);
  world.env.PATH = `${shimDir}:${process.env.PATH ?? ''}`;
  world.startDaemon();
  writeFileSync(gitLog, '');
  const counted = await newTask(store, 5_000);
  await wakeDaemon(world.socket);
  await waitForTask(store, counted.id);
  const newIssueCalls = readCalls(gitLog);
  writeFileSync(gitLog, '');
  const again = await store.tasks.enqueue(
    {
      kind: 'dev',
      mode: 'continue',
      issueRef: 'local/me/app#5000',
      message: 'again',
      agent: 'command',
      maxAttempts: 1,
    },
    world.sessionFor(5_000),
  );
  await wakeDaemon(world.socket);
  await waitForTask(store, again.id);
  const existingCalls = readCalls(gitLog);
  await store.close();

  // ---- report ----
  const bareMean = mean(bareTimes);
  perTask('bare: git worktree add + sh -c true', bareTimes);
  perTask('kugetsu inside: task createdAt → finishedAt (no CLI)', inside);
  perTask('kugetsu delegate: spawn CLI → task finishedAt', viaDelegate);
  perTask('kugetsu start: whole `kugetsu start` process', viaStart);
  const ratio = (times) => mean(times) / bareMean;
  line(
    `    ratio inside / bare (target ≤ ${TARGET_INSIDE}×)`,
    `${fmt(ratio(inside), 2)}× ${verdict(ratio(inside) <= TARGET_INSIDE)}`,
  );
  line(
    `    ratio delegate / bare (target ≤ ${TARGET_CLI}×)`,
    `${fmt(ratio(viaDelegate), 2)}× ${verdict(ratio(viaDelegate) <= TARGET_CLI)}`,
  );
  line(
    `    ratio start / bare (target ≤ ${TARGET_CLI}×)`,
    `${fmt(ratio(viaStart), 2)}× ${verdict(ratio(viaStart) <= TARGET_CLI)}`,
  );
  line('ref: git fetch --prune origin (file://, bare mirror)', `mean ${fmt(mean(fetchTimes))} ms`);
  line(
    'ref: one trivial git process (execFileSync rev-parse)',
    `mean ${fmt(mean(trivialTimes))} ms`,
  );
  line('ref: simple-git raw(), printing call (rev-parse HEAD)', `mean ${fmt(sgPrints)} ms`);
  line('ref: simple-git raw(), silent call (status --porcelain)', `mean ${fmt(sgSilent)} ms`);
  line('ref: the same silent call via execFile', `mean ${fmt(execSilent)} ms`);
  const silent = (calls) => calls.filter((c) => c.silent).length;
  line(
    'git processes per task, new issue (bare path: 1)',
    `${newIssueCalls.length} (${silent(newIssueCalls)} silent)`,
  );
  line(
    'git processes per task, existing session',
    `${existingCalls.length} (${silent(existingCalls)} silent)`,
  );
  console.log('  git calls of one new-issue task, in order (* = printed nothing):');
  for (const call of newIssueCalls) console.log(`    ${call.silent ? '*' : ' '} git ${call.args}`);
  note('the counted task is the first of a new daemon: it also fetches the mirror and looks up');
  note('the default branch (symbolic-ref, rev-parse) and reads WORKFLOW.md (cat-file); a task');
  note('that follows within a second runs `worktree add` and `status --porcelain=v2` only');
  note('kugetsu does, and the bare path does not: store transactions and events, a transcript');
  note('file, process-group supervision, and the hand-off (`diff --shortstat` only for commits)');
  note(
    `the no-op agent commits nothing, so no branch is pushed to the file:// origin (tasks whose result mentions a push: ${pushed})`,
  );
  note('`kugetsu start` polls the store every 100 ms, so its wall time includes 0–100 ms of wait');
  note('simple-git 4 waits an extra 50 ms after any git process that printed nothing');
  note(
    '(node_modules/simple-git/dist/index.mjs, completion-detection plugin: `c && await wt(50)`)',
  );
  note('the warm-up task (full clone of the mirror) and the git-call count tasks are not timed');
} finally {
  world.cleanup();
}
console.log('');
