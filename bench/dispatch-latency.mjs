/**
 * Dispatch latency: how long from "a task exists" to "its agent process is alive", with the
 * daemon already up. The agent is a tiny script whose first act is `date +%s%N` into
 * `<tmp>/t/$KUGETSU_TASK_ID`; the task is created with a high-resolution wall-clock stamp taken
 * just before the enqueue call. Tasks run one at a time (each is waited for to the end before
 * the next is queued), so this measures latency, not queueing.
 *
 *   (a) follow-ups on existing sessions: enqueue through the Store in-process, then wake the
 *       daemon over its Unix socket (exactly what the CLI does) — the daemon's own path.
 *   (b) the same for new issues: adds `git fetch` of the mirror and `git worktree add`.
 *   (c) end to end: spawn `kugetsu delegate "#N …" --json` (Node start-up included).
 */
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { join } from 'node:path';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';
import { wakeDaemon } from '../dist/core/wake-channel.js';
import {
  heading,
  line,
  makeWorld,
  note,
  percentile,
  readStampMs,
  summary,
  verdict,
  waitFor,
  waitForTask,
  wallMs,
} from './lib.mjs';

const SESSIONS = 10;
const EXISTING = 100;
const NEW_ISSUES = 50;
const VIA_CLI = 50;
const TARGET_P50_MS = 50;

const world = makeWorld({ agentScript: 'date +%s%N > "$STAMPS/$KUGETSU_TASK_ID"' });
const store = openSqliteStore(world.db);

function stampOf(taskId) {
  return readStampMs(join(world.stamps, String(taskId)));
}

function eventTimes(taskId) {
  const rows = store.db.all(
    'SELECT type, created_at FROM events WHERE task_id = ? ORDER BY id',
    taskId,
  );
  const at = {};
  for (const r of rows) at[r.type] ??= r.created_at;
  return at;
}

/** Queues one task in-process, wakes the daemon, waits for the agent and the task's end. */
async function viaStore(n, mode) {
  const t0 = wallMs();
  const task = await store.tasks.enqueue(
    {
      kind: 'dev',
      mode,
      issueRef: `local/me/app#${n}`,
      message: `${mode} ${n}`,
      agent: 'command',
      maxAttempts: 1,
    },
    world.sessionFor(n),
  );
  await wakeDaemon(world.socket);
  const alive = await waitFor(() => stampOf(task.id), `the agent of task #${task.id}`);
  const done = await waitForTask(store, task.id);
  if (done.state !== 'completed') throw new Error(`task #${task.id} ended ${done.state}`);
  return { id: task.id, latency: alive - t0, alive };
}

/** Spawns `kugetsu delegate`, waits for the agent and the task's end. */
async function viaCli(n) {
  const t0 = wallMs();
  const run = world.cli(['delegate', `#${n} follow-up via the CLI`, '--json']);
  const { code, stdout, stderr } = await run;
  const cliExit = wallMs() - t0;
  if (code !== 0) throw new Error(`kugetsu delegate failed (${code}): ${stderr}`);
  const { taskId } = JSON.parse(stdout);
  const alive = await waitFor(() => stampOf(taskId), `the agent of task #${taskId}`);
  const done = await waitForTask(store, taskId);
  if (done.state !== 'completed') throw new Error(`task #${taskId} ended ${done.state}`);
  return { id: taskId, latency: alive - t0, alive, cliExit };
}

/** queued→dequeued (wake + claim), dequeued→task_started (workspace + spawn), started→alive. */
function breakdown(results) {
  const claim = [];
  const prepare = [];
  const exec = [];
  for (const r of results) {
    const at = eventTimes(r.id);
    claim.push(at.task_dequeued - at.task_queued);
    prepare.push(at.task_started - at.task_dequeued);
    exec.push(r.alive - at.task_started);
  }
  line('    queued → dequeued (wake-up + claim)', summary(claim));
  line('    dequeued → task_started (worktree check/add + spawn)', summary(prepare));
  line('    task_started → agent stamp (sh + date start-up)', summary(exec));
}

try {
  heading('dispatch latency (task created → agent process alive)');
  // Sanity: our clock and the agent's `date +%s%N` must agree.
  const before = wallMs();
  const stamp = Number(BigInt(execFileSync('date', ['+%s%N'], { encoding: 'utf8' }).trim())) / 1e6;
  const after = wallMs();
  if (stamp < before - 1 || stamp > after + 1)
    throw new Error(`clock mismatch: node ${before}..${after}, date ${stamp}`);

  const pid = world.startDaemon();
  line('daemon pid', String(pid));

  // Warm-up: one task per session creates the sessions and their worktrees (and the mirror).
  for (let n = 1; n <= SESSIONS; n += 1) await viaStore(n, 'start');

  const existing = [];
  for (let i = 0; i < EXISTING; i += 1)
    existing.push(await viaStore((i % SESSIONS) + 1, 'continue'));
  const fresh = [];
  for (let i = 0; i < NEW_ISSUES; i += 1) fresh.push(await viaStore(101 + i, 'start'));
  const cli = [];
  for (let i = 0; i < VIA_CLI; i += 1) cli.push(await viaCli((i % SESSIONS) + 1));

  const lat = (rs) => rs.map((r) => r.latency);
  const p50a = percentile(lat(existing), 50);
  const p50b = percentile(lat(fresh), 50);

  line('(a) existing session, daemon path', summary(lat(existing)));
  breakdown(existing);
  line(
    `    target p50 < ${TARGET_P50_MS} ms`,
    `${verdict(p50a < TARGET_P50_MS)} (p50 ${p50a.toFixed(1)} ms)`,
  );

  line('(b) new issue (fetch + git worktree add), daemon path', summary(lat(fresh)));
  breakdown(fresh);
  line(
    `    target p50 < ${TARGET_P50_MS} ms`,
    `${verdict(p50b < TARGET_P50_MS)} (p50 ${p50b.toFixed(1)} ms)`,
  );

  line('(c) `kugetsu delegate` spawned → agent alive (existing)', summary(lat(cli)));
  line('    `kugetsu delegate` process spawn → exit', summary(cli.map((r) => r.cliExit)));
  note('(c) has no target of its own: it adds Node start-up and the CLI to path (a)');
  note(
    `${SESSIONS} warm-up tasks not counted; ${EXISTING + NEW_ISSUES + VIA_CLI} measured, one at a time, each run to its end before the next`,
  );
  note('event times (breakdown rows) have 1 ms resolution; the totals use sub-ms stamps');
} finally {
  await store.close();
  world.cleanup();
}
console.log('');
