/**
 * The HTTP API, served by the daemon (KUGETSU_HTTP_LISTEN), measured from a client on loopback:
 *
 *   - delegate: `POST /api/v1/tasks` (validate, queue, wake the daemon), one at a time;
 *   - list: `GET /api/v1/tasks?all=true` over the tasks that made, and `GET /api/v1/sessions`;
 *   - SSE delivery delay: an event written by another process (this one, on its own connection to
 *     the home's database, as the daemon writes) until a client of `/api/v1/events/stream` has
 *     parsed it — with 1 client, then with 100 clients streaming at once;
 *   - the cost of what makes that delay short: one `events.latestId()` (the server's 25 ms poll).
 */
import { spawn } from 'node:child_process';
import process from 'node:process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';
import { wakeDaemon } from '../dist/core/wake-channel.js';
import {
  CLI,
  heading,
  line,
  makeWorld,
  note,
  percentile,
  summary,
  verdict,
  waitFor,
  wallMs,
} from './lib.mjs';

const { fetch, AbortController, TextDecoder } = globalThis;
const DELEGATES = 200;
const ISSUES = 20;
const LISTS = 200;
const EVENTS = 100;
const CLIENTS = 100;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A minimal SSE client: calls `onEvent(event, arrivedAt)` for each event message. */
async function stream(base, token, onEvent) {
  const abort = new AbortController();
  const res = await fetch(`${base}/api/v1/events/stream`, {
    headers: { authorization: `Bearer ${token}` },
    signal: abort.signal,
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ready;
  const isReady = new Promise((resolve) => (ready = resolve));
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith('event: ready')) ready();
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data !== undefined && !block.startsWith('event:'))
          onEvent(JSON.parse(data.slice(6)), wallMs());
      }
    }
  })();
  await isReady;
  return () => abort.abort();
}

async function waitForApi(base, auth) {
  for (let i = 0; i < 400; i += 1) {
    const ok = await fetch(`${base}/api/v1/status`, { headers: auth }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await delay(50);
  }
  throw new Error(`the API at ${base} did not answer`);
}

async function idle(store) {
  const until = Date.now() + 180_000;
  for (;;) {
    const stats = await store.tasks.stats();
    if (stats.pending + stats.running === 0) return;
    if (Date.now() > until) throw new Error('tasks did not finish');
    await delay(100);
  }
}

async function timed(count, request) {
  const times = [];
  for (let i = 0; i < count + 5; i += 1) {
    const t0 = performance.now();
    await request(i);
    if (i >= 5) times.push(performance.now() - t0);
  }
  return times;
}

async function requests(base, auth, store, delegates) {
  heading(`${base}: delegate (${delegates} POST /api/v1/tasks on ${ISSUES} issues, one at a time)`);
  const delegate = await timed(delegates, async (i) => {
    const res = await fetch(`${base}/api/v1/tasks`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: `work on #${(i % ISSUES) + 1}` }),
    });
    await res.json();
    if (res.status !== 201) throw new Error(`delegate answered ${res.status}`);
  });
  line('POST /api/v1/tasks', summary(delegate));
  await idle(store);
  const tasks = (await store.tasks.list({})).length;
  heading(
    `${base}: list (${LISTS} requests each, ${tasks} tasks, ${ISSUES} sessions, daemon idle)`,
  );
  for (const path of [
    '/api/v1/tasks?all=true',
    '/api/v1/sessions?all=true',
    '/api/v1/queue/stats',
  ]) {
    const times = await timed(LISTS, async () => {
      await (await fetch(`${base}${path}`, { headers: auth })).text();
    });
    line(`GET ${path}`, summary(times));
  }
}

async function delivery(base, token, store, socket, clients) {
  heading(`${base}: SSE delay, event written by another process → parsed by ${clients} client(s)`);
  const arrivals = new Map();
  const closers = await Promise.all(
    Array.from({ length: clients }, () =>
      stream(base, token, (event, at) => {
        if (event.type !== 'task_queued') return;
        const seen = arrivals.get(event.taskId) ?? [];
        seen.push(at);
        arrivals.set(event.taskId, seen);
      }),
    ),
  );
  const first = [];
  const last = [];
  for (let i = 0; i < EVENTS; i += 1) {
    const t0 = wallMs();
    const task = await store.tasks.enqueue(
      {
        kind: 'dev',
        mode: 'continue',
        issueRef: `local/me/app#${(i % ISSUES) + 1}`,
        message: `sse ${i}`,
        agent: 'command',
        maxAttempts: 1,
      },
      null,
    );
    const seen = await waitFor(
      () => ((arrivals.get(task.id)?.length ?? 0) === clients ? arrivals.get(task.id) : null),
      `task #${task.id}'s event at every client`,
      30_000,
      1,
    );
    first.push(Math.min(...seen) - t0);
    last.push(Math.max(...seen) - t0);
    await wakeDaemon(socket);
    await delay(20 + Math.random() * 20);
  }
  for (const close of closers) close();
  line(clients === 1 ? 'write → client' : 'write → first client', summary(first));
  if (clients > 1) line('write → last client', summary(last));
  else line('target: p50 < 50 ms', verdict(percentile(first, 50) < 50));
  await idle(store);
}

const world = makeWorld({ agentScript: 'exit 0', maxAgents: 3 });
const daemonPort = await freePort();
world.env.KUGETSU_HTTP_LISTEN = `127.0.0.1:${daemonPort}`;
world.env.KUGETSU_HTTP_RATE_LIMIT = '1000000';
const { token } = JSON.parse(world.cliSync(['api', 'token', 'create', 'bench', '--json']));
const auth = { authorization: `Bearer ${token}` };
world.startDaemon();
const store = openSqliteStore(world.db);
const servePort = await freePort();
const serve = spawn(process.execPath, [CLI, 'serve', '--listen', `127.0.0.1:${servePort}`], {
  env: world.env,
  stdio: 'ignore',
});
const servers = [`http://127.0.0.1:${daemonPort}`, `http://127.0.0.1:${servePort}`];

try {
  for (const base of servers) await waitForApi(base, auth);
  note(`${servers[0]} is the daemon's own server; ${servers[1]} is \`kugetsu serve\` beside it`);
  await requests(servers[0], auth, store, DELEGATES);
  await requests(servers[1], auth, store, DELEGATES / 2);
  for (const base of servers)
    for (const clients of [1, CLIENTS]) await delivery(base, token, store, world.socket, clients);

  heading('the poll behind it: events.latestId() on this home');
  const events = (await store.events.list({ unreadOnly: false })).length;
  const polls = [];
  for (let i = 0; i < 10_000; i += 1) {
    const t0 = performance.now();
    await store.events.latestId();
    polls.push(performance.now() - t0);
  }
  line(
    `latestId() over ${events} events`,
    summary(
      polls.map((ms) => ms * 1000),
      'µs',
    ),
  );
  const perSecond = (percentile(polls, 50) * 1000) / 25;
  note(`one poll per 25 ms while any stream waits: ~${perSecond.toFixed(2)} ms of CPU per second`);
} finally {
  serve.kill('SIGTERM');
  await store.close();
  world.cleanup();
}
