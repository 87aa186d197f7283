/**
 * A bot that cannot die silently: the real daemon runs the real grammY bot against the local
 * fake Bot API, which refuses an optional call, drops connections, answers 502, meets a rival
 * poller and revokes the token. The bot must come back by itself where it can, and `status`
 * and `doctor` must say when it is down.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_HEALTH_KEY, parseBotHealth, type BotHealth } from '../bot/health/bot-health.js';
import { FakeTelegram } from './helpers/fake-telegram.js';
import { Sandbox, fixture, running, type CliResult } from './helpers/sandbox.js';

const OWNER = { id: 111, first_name: 'Owner' };

interface StatusJson {
  status: string;
  telegram: {
    health: string;
    summary: string;
    advice: string | null;
    mode: string | null;
    state: string | null;
    lastOkAt: number | null;
    lastError: { at: number; message: string; code: number | null } | null;
    restarts: number | null;
  };
}

function botSandbox(tg: FakeTelegram, settings: Record<string, string> = {}): Sandbox {
  return new Sandbox({
    KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ALLOWED_USERS: String(OWNER.id),
    TELEGRAM_NOTIFY_CHATS: String(OWNER.id),
    ...settings,
  });
}

/** The bot's health row, read in this process: polling it with the CLI would eat the CPU. */
function health(sb: Sandbox): BotHealth | null {
  const row = sb
    .store()
    .db.get<{ value: string }>('SELECT value FROM bot_state WHERE key = ?', BOT_HEALTH_KEY);
  return parseBotHealth(row?.value ?? null);
}

const rendered = (html: string): string =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

const daemonLog = (sb: Sandbox): string =>
  readFileSync(join(sb.home, 'logs', 'daemon.log'), 'utf8');

/** `doctor`'s row for one check, e.g. `FAIL  telegram  bot down — …`. */
const doctorRow = (doctor: CliResult, check: string): string =>
  doctor.stdout.split('\n').find((line) => new RegExp(`^\\S+\\s+${check}\\s`).test(line)) ?? '';

describe('a bot that cannot die silently', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;

  beforeEach(async () => {
    tg = await FakeTelegram.start();
    sb = botSandbox(tg);
    await sb.setup();
  });

  afterEach(async () => {
    await sb.cleanup();
    await tg.close();
  });

  const textsTo = (chat: number): string[] =>
    tg.messagesIn(chat).map((m) => rendered(m.text ?? m.caption ?? ''));

  async function startDaemon(): Promise<void> {
    await sb.ok(['daemon', 'start']);
    await tg.waitFor(() => tg.calls('getUpdates').length > 0);
  }

  it('polls and answers although setMyCommands is refused, and registers the commands later', async () => {
    tg.failNext('setMyCommands', {
      error_code: 400,
      description: 'Bad Request: BOT_COMMANDS_TOO_MUCH',
    });
    tg.failNext('setMyCommands', { error_code: 500, description: 'Internal Server Error' });
    tg.failNext('setMyCommands', {
      error_code: 400,
      description: 'Bad Request: BOT_COMMAND_INVALID',
    });
    await startDaemon();

    // Before, a refused setMyCommands kept the bot from ever polling: no reply came.
    tg.userSends(OWNER, '/status');
    const reply = await tg.waitFor(() => textsTo(OWNER.id).find((t) => t.startsWith('status:')));
    expect(reply).toMatch(/\ntelegram: up — polling as @kugetsu_bot since \S+Z$/);
    const status = await sb.cli(['status']);
    expect([status.code, status.stdout.split('\n').slice(0, 2)]).toEqual([
      0,
      ['ok', expect.stringMatching(/^telegram: up — polling as @kugetsu_bot since \S+Z$/)],
    ]);

    // Retried until Telegram took them: our backoff (1 s, then 2 s) around autoRetry's 3 s
    // wait after the 500.
    await tg.waitFor(() => tg.calls('setMyCommands').length === 4, 15_000);
    const at = tg.calls('setMyCommands').map((c) => c.at);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    expect(gaps.map((gap, i) => gap >= [1_000, 3_000, 2_000][i]!)).toEqual([true, true, true]);
    const registered = (await (
      await fetch(`${tg.apiRoot}/bot${tg.token}/getMyCommands`)
    ).json()) as { result: { command: string }[] };
    expect(registered.result.map((c) => c.command)).toContain('delegate');
    const log = daemonLog(sb);
    expect(log).toContain(
      "telegram setMyCommands failed: Call to 'setMyCommands' failed! (400: Bad Request: BOT_COMMANDS_TOO_MUCH); retrying in 1s",
    );
    expect(log).toContain(
      "telegram setMyCommands failed: Call to 'setMyCommands' failed! (400: Bad Request: BOT_COMMAND_INVALID); retrying in 2s",
    );
    expect(log).toContain('telegram setMyCommands succeeded on attempt 3');
    expect(tg.violations).toEqual([]);
  });

  it('reports an outage in status and doctor, comes back by itself, and pushes every event exactly once', async () => {
    await startDaemon();
    tg.outage('drop');
    await sb.until('the dropped poll to be recorded', () => health(sb)?.state === 'retrying');

    const dropped = await sb.cli(['status']);
    expect(dropped.code).toBe(1);
    const lines = dropped.stdout.split('\n');
    expect(lines[0]).toBe('telegram_bot_down');
    expect(lines[1]).toMatch(/^telegram: down — retrying since \S+Z$/);
    // The cause quotes the request URL, token and all: it must come out scrubbed.
    expect(dropped.stdout).toMatch(
      /\n {2}last error: \S+Z Network request for 'getUpdates' failed! \(request to http:\/\/127\.0\.0\.1:\d+\/bot\*\*\*MASKED\*\*\*\/getUpdates failed, reason: socket hang up\)\n/,
    );
    expect(dropped.stdout).toContain('\n  what to do: it retries by itself; check the network');

    // Work goes on while Telegram is away; its pushes fail and wait.
    const taskId = await sb.startDetached(['start', 'local/me/app#1', 'work offline']);
    expect((await sb.finished(taskId)).state).toBe('completed');
    await sb.until('a push to meet the outage', () =>
      tg.outageRequests.some((r) => r.method === 'sendMessage'),
    );

    tg.outage('bad-gateway');
    await sb.until('the 502 page to be recorded', () =>
      health(sb)?.lastError?.message.includes('invalid json response body'),
    );
    const raw = await sb.cli(['status', '--json']);
    expect(raw.code).toBe(1);
    const report = JSON.parse(raw.stdout) as StatusJson;
    expect(report.status).toBe('telegram_bot_down');
    expect(report.telegram).toMatchObject({
      health: 'down',
      mode: 'polling',
      state: 'retrying',
      restarts: 0,
      lastError: { code: null },
    });
    expect(report.telegram.lastError?.message).toMatch(
      /^Network request for 'getUpdates' failed! \(invalid json response body at http:\/\/127\.0\.0\.1:\d+\/bot\*\*\*MASKED\*\*\*\/getUpdates reason: /,
    );
    const doctor = await sb.cli(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctorRow(doctor, 'telegram')).toMatch(
      /^FAIL\s+telegram\s+bot down — retrying since \S+Z; last error: Network request for 'getUpdates' failed! .*; what to do: it retries by itself; .*; 1 allowed user\(s\), 1 notify chat\(s\)$/,
    );
    for (const text of [dropped.stdout, raw.stdout, doctor.stdout, daemonLog(sb)])
      expect(text).not.toContain(tg.token);

    tg.restore();
    tg.userSends(OWNER, '/queue');
    await tg.waitFor(() => textsTo(OWNER.id).includes('The queue is empty.'), 15_000);
    // The four events of the task, pushed once the bot was back — none lost, none twice (three
    // messages: the dequeue edits the "queued" one in place).
    const icons = ['⏳', '▶️', '✅'];
    const pushes = (): string[] =>
      textsTo(OWNER.id).filter((t) => ['📥', ...icons].some((icon) => t.startsWith(icon)));
    await tg.waitFor(() => pushes().length >= 3 && pushes()[2]?.startsWith('✅') === true, 20_000);
    await delay(1_500);
    expect(pushes().map((t) => icons.find((icon) => t.startsWith(icon)))).toEqual(icons);
    const sends = tg
      .calls('sendMessage')
      .map((c) => `${String(c.params['chat_id'])} ${String(c.params['text'])}`);
    expect(new Set(sends).size).toBe(sends.length);

    const back = await sb.cli(['status']);
    expect([back.code, back.stdout.split('\n')[0]]).toEqual([0, 'ok']);
    expect(back.stdout).toMatch(/\ntelegram: up — polling as @kugetsu_bot since \S+Z\n/);
    expect(daemonLog(sb)).toMatch(/telegram getUpdates works again after \d+s/);
    expect(tg.violations).toEqual([]);
  });

  it('restarts after a rival poller (409) with backoff, and answers again', async () => {
    await startDaemon();
    // Another process long-polls with the same token: Telegram ends our poll with 409.
    void fetch(`${tg.apiRoot}/bot${tg.token}/getUpdates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ timeout: 2 }),
    }).catch(() => undefined);
    await sb.until('the restart to be logged', () => daemonLog(sb).includes('(restart 1)'));
    expect(daemonLog(sb)).toContain(
      'telegram bot stopped: another process polls this bot token (409 Conflict); run one kugetsu daemon or bot per token; restarting in 1s (restart 1)',
    );

    // Before, a 409 ended the bot for good.
    tg.userSends(OWNER, '/queue');
    await tg.waitFor(() => textsTo(OWNER.id).includes('The queue is empty.'), 15_000);
    const report = await sb.json<StatusJson>(['status']);
    expect(report.status).toBe('ok');
    expect(report.telegram).toMatchObject({
      health: 'up',
      state: 'running',
      restarts: 1,
      lastError: { code: 409 },
    });
  });

  it('stops for good when Telegram refuses the token, and says to fix TELEGRAM_BOT_TOKEN', async () => {
    await startDaemon();
    tg.revokeToken();
    await sb.until('the refusal to be recorded', () => health(sb)?.state === 'unauthorized');

    const status = await sb.cli(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout.split('\n').slice(0, 2)).toEqual([
      'telegram_bot_down',
      'telegram: down — stopped: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized)',
    ]);
    expect(status.stdout).toMatch(
      /\n {2}last error: \S+Z Call to 'getUpdates' failed! \(401: Unauthorized\)\n/,
    );
    expect(status.stdout).toContain(
      '\n  what to do: fix TELEGRAM_BOT_TOKEN in config.env or the environment (the token @BotFather gave), then `kugetsu daemon restart`\n',
    );
    const doctor = await sb.cli(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctorRow(doctor, 'telegram')).toMatch(
      /^FAIL\s+telegram\s+bot down — stopped: Telegram refused TELEGRAM_BOT_TOKEN \(401 Unauthorized\); .*what to do: fix TELEGRAM_BOT_TOKEN/,
    );

    // Retrying a refused token would only hammer Telegram.
    await delay(2_500);
    const log = daemonLog(sb);
    expect(log).toContain('telegram bot stopped for good: Telegram refused TELEGRAM_BOT_TOKEN');
    expect(log).not.toContain('restarting in');
  });

  it('a daemon killed with -9 leaves its "running" row: status says the bot is not running', async () => {
    await startDaemon();
    await sb.until('a fetch to be recorded', () => health(sb)?.lastOkAt !== null);
    const { pid } = await sb.json<{ pid: number }>(['daemon', 'status']);
    process.kill(pid, 'SIGKILL');
    await sb.until('the daemon to die', () => !running(pid));
    expect(health(sb)?.state).toBe('running');

    const status = await sb.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout.split('\n').slice(0, 2)).toEqual([
      'ok',
      'telegram: not running — the daemon is not running',
    ]);
    expect(status.stdout).toContain(
      '\n  what to do: start the daemon: `kugetsu daemon start` (`delegate` starts it too)\n',
    );
    const report = await sb.json<StatusJson>(['status']);
    expect(report.telegram).toMatchObject({ health: 'not_running', state: null, restarts: null });
    expect(report.telegram.lastOkAt).not.toBeNull();
  });
});

describe('a bot on a webhook that cannot die silently', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;
  let port: number;

  beforeEach(async () => {
    tg = await FakeTelegram.start();
    port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address() as AddressInfo;
        probe.close(() => resolve(address.port));
      });
    });
    sb = botSandbox(tg, {
      TELEGRAM_WEBHOOK_URL: 'https://kugetsu.example.com/telegram',
      TELEGRAM_WEBHOOK_LISTEN: `127.0.0.1:${port}`,
      TELEGRAM_WEBHOOK_SECRET: 'hook_secret_123',
    });
    await sb.setup();
  });

  afterEach(async () => {
    await sb.cleanup();
    await tg.close();
  });

  it('sets the webhook up again after Telegram refused it, then answers through it', async () => {
    tg.failNext('setWebhook', { error_code: 500, description: 'Internal Server Error' });
    await sb.ok(['daemon', 'start']);
    // Before, one refused setWebhook left the bot without a webhook for good.
    await tg.waitFor(() => tg.calls('setWebhook').length === 2, 10_000);
    await sb.until('the webhook to be up', () => health(sb)?.state === 'running');
    expect(daemonLog(sb)).toContain(
      "telegram bot stopped: Call to 'setWebhook' failed! (500: Internal Server Error); restarting in 1s (restart 1)",
    );

    const update = tg.userSends(OWNER, '/queue');
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': 'hook_secret_123',
      },
      body: JSON.stringify(update),
    });
    expect(res.status).toBe(200);
    await tg.waitFor(() => tg.messagesIn(OWNER.id).find((m) => m.text === 'The queue is empty.'));
    const report = await sb.json<StatusJson>(['status']);
    expect(report.status).toBe('ok');
    expect(report.telegram).toMatchObject({ health: 'up', mode: 'webhook', restarts: 1 });
    expect(report.telegram.lastOkAt).not.toBeNull();
    expect(tg.calls('getUpdates')).toEqual([]);
  });
});
