/**
 * Live updates over Server-Sent Events through the daemon's real HTTP server: the event stream
 * and a transcript stream dropped mid-flight and resumed with Last-Event-ID lose nothing and
 * repeat nothing; and 100 clients streaming at once while 200 tasks run each see every event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KugetsuEvent, Task } from '../core/domain.js';
import { daemonWithApi, type ApiClient, type SseStream } from './helpers/api-client.js';
import { Sandbox, fixture } from './helpers/sandbox.js';

const AGENT = `case "$KUGETSU_MESSAGE" in
  *slow*) i=1; while [ $i -le 30 ]; do echo "line $i ü"; i=$((i+1)); sleep 0.03; done;;
  *quick*) echo done;;
  *) exec ${fixture('echo-agent.sh')};;
esac`;

/** The event ids a stream delivered, in order. */
function eventIds(stream: SseStream): number[] {
  return stream.messages.filter((m) => m.event === 'message').map((m) => Number(m.id));
}

describe('HTTP API: live streams', () => {
  let sb: Sandbox;
  let api: ApiClient;
  afterEach(() => sb.cleanup());

  const start = async (settings: Record<string, string>) => {
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: AGENT,
      KUGETSU_DEFAULT_REPO: 'local/me/app',
      ...settings,
    });
    await sb.setup();
    api = await daemonWithApi(sb);
  };
  const allEvents = async (after: number): Promise<KugetsuEvent[]> =>
    (await api.get<{ events: KugetsuEvent[] }>(`/api/v1/events?all=true&after=${after}`)).body
      .events;
  const allFinished = (ids: number[]) =>
    sb.until(
      `${ids.length} tasks to finish`,
      async () => {
        const tasks = await Promise.all(ids.map((id) => sb.store().tasks.get(id)));
        return tasks.every((t) => ['completed', 'error', 'cancelled'].includes(t?.state ?? ''));
      },
      180_000,
    );

  it('resumes the event stream after dropped connections with no event lost or repeated', async () => {
    await start({});
    let stream = await api.stream('/api/v1/events/stream');
    await stream.until('ready', (m) => m.some((x) => x.event === 'ready'));
    const from = Number(stream.lastEventId);
    const received: number[] = [];
    const ids: number[] = [];
    for (let i = 1; i <= 8; i += 1) {
      const res = await api.post<{ taskId: number }>('/api/v1/tasks', { message: `work on #${i}` });
      ids.push(res.body.taskId);
      // Drop the connection every few tasks, whatever it was in the middle of, and come back.
      if (i % 3 === 0) {
        await stream.until('some events', (m) => m.length > 1);
        stream.close();
        await stream.done;
        received.push(...eventIds(stream));
        // Written while no stream is open: only resumption can deliver it.
        const gap = await api.post<{ taskId: number }>('/api/v1/tasks', {
          message: `work on #${20 + i}`,
        });
        ids.push(gap.body.taskId);
        stream = await api.stream('/api/v1/events/stream', stream.lastEventId ?? undefined);
      }
    }
    await allFinished(ids);
    const expected = (await allEvents(from)).map((e) => e.id);
    const last = expected.at(-1) ?? 0;
    await stream.until('the last event', (m) =>
      m.some((x) => Number(x.id) === last && x.event === 'message'),
    );
    stream.close();
    received.push(...eventIds(stream));
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(ids.length * 3);

    // `?after=` replays from any point; a garbage Last-Event-ID is a 400, not a replay of all.
    const replay = await api.stream(`/api/v1/events/stream?after=${from}`);
    await replay.until('the replay', (m) => m.some((x) => Number(x.id) === last));
    replay.close();
    expect(eventIds(replay)).toEqual(expected);
    const bad = await api.request('GET', '/api/v1/events/stream', undefined, {
      'last-event-id': 'x; DROP',
    });
    expect(bad.status).toBe(400);
  });

  it("streams a task's transcript, resumable from where the client dropped it", async () => {
    await start({});
    const { body } = await api.post<{ task: Task }>('/api/v1/tasks/start', {
      ref: 'local/me/app#1',
      message: 'slow output please',
    });
    const path = `/api/v1/tasks/${body.task.id}/transcript/stream`;
    const first = await api.stream(path);
    await first.until('a few lines', (m) => m.filter((x) => x.event === 'lines').length >= 3);
    first.close();
    await first.done;
    const second = await api.stream(path, first.lastEventId ?? undefined);
    await second.until('the end', (m) => m.some((x) => x.event === 'end'));
    await second.done;
    const lines = [first, second].flatMap((s) =>
      s.messages
        .filter((m) => m.event === 'lines')
        .flatMap((m) => (JSON.parse(m.data) as { lines: string[] }).lines),
    );
    const stored = (
      await api.get<{ runs: { lines: string[] }[] }>(`/api/v1/tasks/${body.task.id}`)
    ).body.runs.flatMap((r) => r.lines);
    expect(lines).toEqual(stored);
    expect(lines.filter((l) => /^line \d+ ü$/.test(l))).toHaveLength(30);
    const end = second.messages.find((m) => m.event === 'end');
    expect((JSON.parse(end?.data ?? '{}') as { task: Task }).task.state).toBe('completed');
    // A finished task's stream is its whole transcript, then the end.
    const replay = await api.stream(path);
    await replay.done;
    expect(replay.messages.at(-1)?.event).toBe('end');
    expect((await api.request('GET', '/api/v1/tasks/999999/transcript/stream')).status).toBe(404);
  });

  it('keeps 100 streaming clients up to date while 200 tasks run', async () => {
    await start({ MAX_CONCURRENT_AGENTS: '4', KUGETSU_HTTP_RATE_LIMIT: '100000' });
    const from = (await allEvents(0)).at(-1)?.id ?? 0;
    const clients = await Promise.all(
      Array.from({ length: 100 }, () => api.stream(`/api/v1/events/stream?after=${from}`)),
    );
    const ids: number[] = [];
    const queue = Array.from({ length: 200 }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const res = await api.post<{ taskId: number }>('/api/v1/tasks', {
            message: `quick work on #${(i % 40) + 1}`,
          });
          expect(res.status).toBe(201);
          ids.push(res.body.taskId);
        }
      }),
    );
    await allFinished(ids);
    const expected = (await allEvents(from)).map((e) => e.id);
    const last = expected.at(-1) ?? 0;
    await Promise.all(
      clients.map((c) =>
        c.until('every event', (m) => m.some((x) => Number(x.id) === last), 60_000),
      ),
    );
    for (const client of clients) {
      client.close();
      expect(eventIds(client)).toEqual(expected);
    }
    expect(expected.length).toBeGreaterThanOrEqual(200 * 3);
    const stats = await api.get<{ completed: number }>('/api/v1/queue/stats');
    expect(stats.body.completed).toBe(200);
  }, 300_000);
});
