import { describe, expect, it } from 'vitest';
import {
  HEARTBEAT_MS,
  initialBotHealth,
  nextBotHealth,
  parseBotHealth,
  shouldWriteBotHealth,
  type BotHealth,
  type BotHealthEvent,
} from '../bot/health/bot-health.js';
import {
  STALE_AFTER_MS,
  botHealthLine,
  botHealthLines,
  judgeBotHealth,
  type BotHealthFacts,
} from '../bot/health/health-report.js';

const T0 = Date.parse('2025-06-01T10:00:00.000Z');
const OWNER = { pid: 4242, start: '12345' };

/** Applies events one second apart, starting at T0. */
function replay(events: BotHealthEvent[], mode: 'polling' | 'webhook' = 'polling'): BotHealth {
  return events.reduce(
    (health, event, i) => nextBotHealth(health, event, T0 + i * 1_000),
    initialBotHealth(OWNER, mode, T0),
  );
}

const RUNNING: BotHealthEvent[] = [{ kind: 'starting' }, { kind: 'running', username: 'kbot' }];
const BAD_GATEWAY = {
  kind: 'failed',
  message: "Call to 'getUpdates' failed! (502: Bad Gateway)",
  code: 502,
} as const;
const alive = (now: number, daemonPid: number | null = OWNER.pid): BotHealthFacts => ({
  now,
  ownerAlive: true,
  daemonPid,
});

describe('bot health transitions', () => {
  it('a failure grammY retries itself makes it retrying until a fetch succeeds again', () => {
    const failing = replay([...RUNNING, { kind: 'ok' }, BAD_GATEWAY, BAD_GATEWAY]);
    expect(failing).toMatchObject({
      state: 'retrying',
      since: T0 + 3_000,
      lastOkAt: T0 + 2_000,
      nextRetryAt: null,
      lastError: { at: T0 + 4_000, code: 502 },
    });
    const back = nextBotHealth(failing, { kind: 'ok' }, T0 + 9_000);
    expect(back).toMatchObject({ state: 'running', since: T0 + 9_000, lastOkAt: T0 + 9_000 });
    // The error stays on record: status shows what the last outage was.
    expect(back.lastError?.code).toBe(502);
  });

  it('a supervisor restart counts, and says when it tries again', () => {
    const health = replay([
      ...RUNNING,
      { kind: 'restarting', message: 'Conflict', code: 409, delayMs: 1_000 },
      { kind: 'starting' },
      { kind: 'restarting', message: 'Conflict', code: 409, delayMs: 2_000 },
    ]);
    expect(health).toMatchObject({ state: 'retrying', restarts: 2, nextRetryAt: T0 + 6_000 });
    // A fetch while the supervisor waits cannot happen; if one did, it would not hide the wait.
    expect(nextBotHealth(health, { kind: 'ok' }, T0 + 5_000).state).toBe('retrying');
  });

  it('a refused token and a clean stop are final: later failures only add to the record', () => {
    const refused = replay([
      ...RUNNING,
      {
        kind: 'unauthorized',
        message: "Call to 'getUpdates' failed! (401: Unauthorized)",
        code: 401,
      },
      BAD_GATEWAY,
    ]);
    expect(refused).toMatchObject({ state: 'unauthorized', lastError: { code: 502 } });
    expect(replay([...RUNNING, { kind: 'stopped' }, BAD_GATEWAY]).state).toBe('stopped');
  });

  it('writes every change at once, but a fresher fetch only every few seconds', () => {
    const running = replay(RUNNING);
    expect(shouldWriteBotHealth(null, running)).toBe(true);
    const fetched = nextBotHealth(running, { kind: 'ok' }, T0 + 2_000);
    expect(shouldWriteBotHealth(running, fetched)).toBe(true);
    const soon = nextBotHealth(fetched, { kind: 'ok' }, T0 + 2_000 + HEARTBEAT_MS - 1);
    expect(shouldWriteBotHealth(fetched, soon)).toBe(false);
    const later = nextBotHealth(soon, { kind: 'ok' }, T0 + 2_000 + HEARTBEAT_MS);
    expect(shouldWriteBotHealth(fetched, later)).toBe(true);
    expect(shouldWriteBotHealth(fetched, nextBotHealth(soon, BAD_GATEWAY, T0 + 3_000))).toBe(true);
  });

  it('reads back what it wrote, and nothing it cannot read', () => {
    const health = replay([...RUNNING, BAD_GATEWAY]);
    expect(parseBotHealth(JSON.stringify(health))).toEqual(health);
    expect(parseBotHealth(null)).toBeNull();
    expect(parseBotHealth('{"state":"running"}')).toBeNull();
    expect(parseBotHealth('not json')).toBeNull();
  });
});

describe('bot health as another process judges it', () => {
  it('polling with a recent fetch is up', () => {
    const health = replay([...RUNNING, { kind: 'ok' }]);
    const report = judgeBotHealth(health, alive(T0 + 30_000));
    expect(report).toMatchObject({
      health: 'up',
      summary: 'polling as @kbot since 2025-06-01T10:00:01.000Z',
      advice: null,
      pid: OWNER.pid,
      restarts: 0,
    });
    expect(botHealthLines(report, T0 + 30_000)).toEqual([
      'telegram: up — polling as @kbot since 2025-06-01T10:00:01.000Z',
      '  last update fetch: 2025-06-01T10:00:02.000Z (28s ago)',
      '  restarts: 0',
    ]);
  });

  it('a "running" row whose fetches stopped is down: polling is stuck', () => {
    const health = replay([...RUNNING, { kind: 'ok' }]);
    expect(judgeBotHealth(health, alive(T0 + 2_000 + STALE_AFTER_MS)).health).toBe('up');
    const stuck = judgeBotHealth(health, alive(T0 + 2_001 + STALE_AFTER_MS));
    expect(stuck).toMatchObject({
      health: 'down',
      summary: 'polling as @kbot, but no getUpdates succeeded since 2025-06-01T10:00:02.000Z',
    });
    expect(stuck.advice).toContain('kugetsu daemon restart');
  });

  it('a webhook is not judged by silence: Telegram calls only when there is an update', () => {
    const health = replay(RUNNING, 'webhook');
    expect(judgeBotHealth(health, alive(T0 + 3_600_000))).toMatchObject({
      health: 'up',
      summary: 'on a webhook as @kbot since 2025-06-01T10:00:01.000Z',
    });
  });

  it('retrying is down, with the last error and what to do', () => {
    const health = replay([
      ...RUNNING,
      { kind: 'ok' },
      {
        kind: 'restarting',
        message: "Call to 'getMe' failed! (404: Not Found)",
        code: 404,
        delayMs: 2_000,
      },
    ]);
    const report = judgeBotHealth(health, alive(T0 + 4_000));
    expect(botHealthLines(report, T0 + 4_000)).toEqual([
      'telegram: down — retrying since 2025-06-01T10:00:03.000Z',
      '  last update fetch: 2025-06-01T10:00:02.000Z (2s ago)',
      "  last error: 2025-06-01T10:00:03.000Z Call to 'getMe' failed! (404: Not Found)",
      '  restarts: 1, next try 2025-06-01T10:00:05.000Z',
      '  what to do: it retries by itself; check the network and TELEGRAM_API_ROOT (`kugetsu daemon logs` shows every attempt)',
    ]);
    expect(botHealthLine(report)).toBe(
      "down — retrying since 2025-06-01T10:00:03.000Z; last error: Call to 'getMe' failed! (404: Not Found); what to do: it retries by itself; check the network and TELEGRAM_API_ROOT (`kugetsu daemon logs` shows every attempt)",
    );
  });

  it('a rival poller (409) is named as such', () => {
    const health = replay([
      ...RUNNING,
      {
        kind: 'restarting',
        message: 'Conflict: terminated by other getUpdates request',
        code: 409,
        delayMs: 1_000,
      },
    ]);
    const report = judgeBotHealth(health, alive(T0 + 3_000));
    expect(report.summary).toBe(
      'retrying since 2025-06-01T10:00:02.000Z: another process polls this bot token (409 Conflict)',
    );
    expect(report.advice).toBe(
      'run one kugetsu daemon or `kugetsu bot` per token; it retries by itself',
    );
  });

  it('a refused token says to fix TELEGRAM_BOT_TOKEN', () => {
    const health = replay([
      ...RUNNING,
      {
        kind: 'unauthorized',
        message: "Call to 'getUpdates' failed! (401: Unauthorized)",
        code: 401,
      },
    ]);
    const report = judgeBotHealth(health, alive(T0 + 3_000));
    expect(report.health).toBe('down');
    expect(report.summary).toBe('stopped: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized)');
    expect(report.advice).toMatch(/^fix TELEGRAM_BOT_TOKEN in config.env or the environment/);
  });

  it('starting is not down at first, but is after a while', () => {
    const health = replay([{ kind: 'starting' }]);
    expect(judgeBotHealth(health, alive(T0 + 5_000)).health).toBe('starting');
    expect(judgeBotHealth(health, alive(T0 + STALE_AFTER_MS + 1)).health).toBe('down');
  });

  it('a dead owner\'s "running" row is not believed: no daemon means not running', () => {
    const health = replay([...RUNNING, { kind: 'ok' }, BAD_GATEWAY]);
    const report = judgeBotHealth(health, { now: T0 + 5_000, ownerAlive: false, daemonPid: null });
    expect(report).toMatchObject({
      health: 'not_running',
      summary: 'the daemon is not running',
      state: null,
      pid: null,
      restarts: null,
      nextRetryAt: null,
    });
    expect(botHealthLines(report, T0 + 5_000)).toEqual([
      'telegram: not running — the daemon is not running',
      '  last update fetch: 2025-06-01T10:00:02.000Z (3s ago)',
      "  last error: 2025-06-01T10:00:03.000Z Call to 'getUpdates' failed! (502: Bad Gateway)",
      '  what to do: start the daemon: `kugetsu daemon start` (`delegate` starts it too)',
    ]);
  });

  it('a daemon that runs without a live bot is down, whether a row was left or none was written', () => {
    const left = replay([...RUNNING, { kind: 'stopped' }]);
    for (const record of [left, null]) {
      const report = judgeBotHealth(record, { now: T0 + 5_000, ownerAlive: false, daemonPid: 777 });
      expect(report.health).toBe('down');
      expect(report.summary).toBe('the daemon (pid 777) is not running the bot');
      expect(report.advice).toContain('kugetsu daemon restart');
    }
  });
});

describe('the status word with the bot', () => {
  it('is telegram_bot_down only once nothing the core needs is missing', async () => {
    const { withTelegram } = await import('../bot/health/telegram-status.js');
    const facts = { now: T0 + 5_000, ownerAlive: false, daemonPid: 777 };
    const down = judgeBotHealth(null, facts);
    const up = judgeBotHealth(replay(RUNNING), { ...facts, now: T0 + 2_000, ownerAlive: true });
    expect(withTelegram('ok', down)).toBe('telegram_bot_down');
    expect(withTelegram('base_session_missing', down)).toBe('base_session_missing');
    expect(withTelegram('ok', up)).toBe('ok');
    expect(withTelegram('ok', null)).toBe('ok');
  });
});
