/**
 * The Telegram bot end to end: the real daemon runs the real grammY bot, which reaches a local
 * fake Bot API server through its real client (`TELEGRAM_API_ROOT`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentSettings } from './helpers/agent-world.mjs';
import { FakeTelegram } from './helpers/fake-telegram.js';
import { ModelServer } from './helpers/model-server.mjs';
import { OWNER, botSandbox, rendered, startBot } from './helpers/bot-world.js';
import { Sandbox, fixture } from './helpers/sandbox.js';

const STRANGER = { id: 999, first_name: 'Mallory' };
const SECRET = 'tok_5a4b3c2d1e0f9a8b7c6d';

interface Task {
  id: number;
  state: string;
  issueRef: string | null;
}

describe('telegram bot', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;

  beforeEach(async () => {
    tg = await FakeTelegram.start();
    sb = botSandbox(tg);
    await startBot(sb, tg);
  });

  afterEach(async () => {
    await sb.cleanup();
    await tg.close();
  });

  const tasks = async (): Promise<Task[]> =>
    (await sb.json<{ tasks: Task[] }>(['queue', 'list', '--all'])).tasks;
  const textsTo = (chat: number): string[] =>
    tg.messagesIn(chat).map((m) => rendered(m.text ?? m.caption ?? ''));

  it('registers its commands and polls without a webhook', () => {
    expect(tg.calls('deleteWebhook')).toHaveLength(1);
    const commands = tg.calls('setMyCommands')[0]?.params['commands'] as { command: string }[];
    expect(commands.map((c) => c.command)).toEqual([
      'delegate',
      'queue',
      'list',
      'status',
      'notify',
      'continue',
      'stop',
      'logs',
      'destroy',
      'prune',
      'pending',
      'help',
    ]);
    expect(tg.violations).toEqual([]);
  });

  it("queues an allowed user's /delegate and answers with the task id and ref", async () => {
    tg.userSends(OWNER, '/delegate fix the typo in local/me/app#3');
    const reply = await tg.waitFor(() => textsTo(OWNER.id).find((t) => t.includes('queued')));
    expect(reply).toBe('📥 Task #1 queued for local/me/app#3');
    expect((await tasks())[0]).toMatchObject({ id: 1, issueRef: 'local/me/app#3' });
  });

  it('refuses a stranger once, learns them nothing, and ignores their buttons', async () => {
    tg.userSends(OWNER, '/delegate local/me/app#4 first');
    await tg.waitFor(() => textsTo(OWNER.id).find((t) => t.includes('queued')));
    tg.userSends(STRANGER, '/delegate local/me/app#5 evil');
    tg.userSends(STRANGER, '/queue');
    await tg.waitFor(() => textsTo(STRANGER.id).length === 2);
    expect(textsTo(STRANGER.id)).toEqual([
      'This is a private kugetsu bot.',
      'This is a private kugetsu bot.',
    ]);
    const notification = await tg.waitFor(() =>
      tg
        .messagesIn(OWNER.id)
        .find(
          (m) =>
            (m.reply_markup as { inline_keyboard?: unknown } | undefined)?.inline_keyboard !==
            undefined,
        ),
    );
    tg.userPresses(
      STRANGER,
      { chatId: OWNER.id, messageId: notification.message_id },
      'destroy!:1',
    );
    const answer = await tg.waitFor(() => tg.calls('answerCallbackQuery')[0]);
    expect(answer.params['text']).toBe('This is a private kugetsu bot.');
    expect((await tasks()).map((t) => t.issueRef)).toEqual(['local/me/app#4']);
    expect((await sb.json<{ sessions: unknown[] }>(['list', '--all'])).sessions).toHaveLength(1);
  });

  it('pushes started, then completed with buttons; queued and dequeued arrive silently', async () => {
    await sb.ok(['start', 'local/me/app#6', 'add docs']);
    const messages = await tg.waitFor(() => {
      const all = tg.messagesIn(OWNER.id);
      return all.some((m) => m.text?.includes('completed')) ? all : null;
    });
    // One message per state change: the dequeue edits the "queued" message in place.
    const icons = ['⏳', '▶️', '✅'];
    expect(
      messages.map((m) => icons.findIndex((icon) => m.text?.startsWith(icon) === true)),
    ).toEqual([0, 1, 2]);
    expect(messages.map((m) => [m.disable_notification === true, m.edits])).toEqual([
      [true, 1],
      [false, 0],
      [false, 0],
    ]);
    const done = messages[2];
    expect(done?.text).toContain(
      'completed: branch kugetsu/local-me-app-6 · 1 file changed, 1 insertion(+) · pushed',
    );
    const buttons = (
      done?.reply_markup as { inline_keyboard: { text: string }[][] }
    ).inline_keyboard
      .flat()
      .map((b) => b.text);
    expect(buttons).toEqual(['Continue', 'Logs', 'Destroy', 'Prune']);
    expect(tg.violations).toEqual([]);
  });

  it('destroys only after the confirmation button, which then disappears', async () => {
    await sb.ok(['start', 'local/me/app#7', 'work']);
    const done = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.includes('completed')),
    );
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: done.message_id }, 'destroy:1');
    await tg.waitFor(() => tg.calls('editMessageReplyMarkup').length === 1);
    expect((await sb.json<{ sessions: unknown[] }>(['list', '--all'])).sessions).toHaveLength(1);
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: done.message_id }, 'destroy!:1');
    await tg.waitFor(() => textsTo(OWNER.id).find((t) => t.startsWith('🗑 Destroyed')));
    expect((await sb.json<{ sessions: unknown[] }>(['list', '--all'])).sessions).toHaveLength(0);
    const edits = tg.calls('editMessageReplyMarkup');
    expect(edits.at(-1)?.params['reply_markup']).toBeUndefined();
  });

  it('continues a session when the user replies to its notification', async () => {
    await sb.ok(['start', 'local/me/app#8', 'first pass']);
    const done = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.includes('completed')),
    );
    tg.userSends(OWNER, 'now add tests', { replyTo: done.message_id });
    await tg.waitFor(() =>
      textsTo(OWNER.id).find((t) => t === '📥 Task #2 queued for local/me/app#8'),
    );
    await sb.until(
      'the follow-up to complete',
      async () => (await tasks()).find((t) => t.id === 2)?.state === 'completed',
    );
    expect(await sb.ok(['logs', '2'])).toContain('stdin: now add tests');
  });

  it('asks for the task when /delegate has no text, and remembers the question across a restart', async () => {
    tg.userSends(OWNER, '/delegate');
    await tg.waitFor(() =>
      textsTo(OWNER.id).find((t) => t.startsWith('What should the agent do?')),
    );
    await sb.ok(['daemon', 'restart']);
    tg.userSends(OWNER, 'local/me/app#9 tidy the README');
    const reply = await tg.waitFor(() => textsTo(OWNER.id).find((t) => t.includes('queued')));
    expect(reply).toBe('📥 Task #1 queued for local/me/app#9');
  });

  it('waits out a 429 with retry_after and still delivers', async () => {
    tg.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });
    tg.userSends(OWNER, '/status');
    const status = await tg.waitFor(() => textsTo(OWNER.id).find((t) => t.startsWith('status:')));
    expect(status).toContain('daemon: running');
    const sends = tg.calls('sendMessage');
    expect(sends.length).toBeGreaterThanOrEqual(2);
    expect((sends[1]?.at ?? 0) - (sends[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('sends a 10,000-character transcript within Telegram limits, and never a secret', async () => {
    await sb.ok(['env', 'set', 'API_TOKEN', SECRET]);
    const long = `sh -c 'echo "secret is $API_TOKEN"; i=0; while [ $i -lt 100 ]; do printf "%099d\\n" $i; i=$((i+1)); done'`;
    // The daemon runs agents with its own settings: restart it with the long-winded agent.
    await sb.ok(['daemon', 'restart'], { env: { KUGETSU_AGENT_COMMAND: long } });
    await sb.ok(['start', 'local/me/app#10', 'print a lot']);
    tg.userSends(OWNER, '/logs local/me/app#10');
    await tg.waitFor(
      () => tg.messagesIn(OWNER.id).filter((m) => m.text?.startsWith('<pre>')).length > 0,
    );
    tg.userSends(OWNER, '/logs 1 full');
    const doc = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.document !== undefined),
    );
    expect(doc.document?.content.length ?? 0).toBeGreaterThan(10_000);
    expect(doc.document?.content).toContain('secret is ***MASKED***');
    for (const request of tg.requests) expect(JSON.stringify(request.params)).not.toContain(SECRET);
    expect(tg.violations).toEqual([]);
  });

  it('pairs a stranger: /start shows a one-time code that the owner approves on the server', async () => {
    tg.userSends(STRANGER, '/start');
    const offer = await tg.waitFor(() =>
      textsTo(STRANGER.id).find((t) => t.includes('kugetsu bot allow')),
    );
    const code = /kugetsu bot allow ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(offer)?.[1] ?? '';
    expect(offer).toBe(
      `This is a private kugetsu bot. If you own it, approve this chat on the server with:\nkugetsu bot allow ${code}\n(valid for an hour)`,
    );
    const users = await sb.json<{
      pending: { code: string; request: { userId: number; name: string } }[];
    }>(['bot', 'users']);
    expect(users.pending.map((p) => [p.code, p.request.userId, p.request.name])).toEqual([
      [code, STRANGER.id, 'Mallory'],
    ]);
    expect((await sb.cli(['bot', 'allow', 'ZZZZ-ZZZZ'])).stderr).toContain('unknown or expired');
    expect(await sb.ok(['bot', 'allow', code])).toBe(
      `allowed Telegram user ${STRANGER.id} (Mallory)\n`,
    );
    tg.userSends(STRANGER, '/queue');
    expect(
      await tg.waitFor(() => textsTo(STRANGER.id).find((t) => t === 'The queue is empty.')),
    ).toBeTruthy();
  });

  it('edits the started message in place with progress, keeping its buttons', async () => {
    const steps = `sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "step $i of 10"; sleep 0.4; done'`;
    await sb.ok(['daemon', 'restart'], {
      env: { KUGETSU_AGENT_COMMAND: steps, TELEGRAM_PROGRESS_SECONDS: '0.3' },
    });
    await sb.ok(['start', 'local/me/app#11', 'count']);
    const started = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.startsWith('▶️') === true && m.edits > 0),
    );
    expect(started.text).toMatch(
      /^▶️ <b>running<\/b> · <code>local\/me\/app#11<\/code>\n#1 · \d+s · attempt 1\/3\n<i>step \d+ of 10<\/i>$/,
    );
    const buttons = (
      started.reply_markup as { inline_keyboard: { text: string }[][] }
    ).inline_keyboard
      .flat()
      .map((b) => b.text);
    expect(buttons).toEqual(['Stop', 'Logs', 'Destroy', 'Prune']);
    // Progress edits never ping: every new message is a state change, and there are three
    // (queued, edited in place when dequeued; started; completed).
    expect(tg.messagesIn(OWNER.id).filter((m) => /^(📥|⏳|▶️|✅)/.test(m.text ?? ''))).toHaveLength(
      3,
    );
    expect(tg.violations).toEqual([]);
  });

  it('delivers each notification exactly once per chat across a kill -9 in the middle of pushing', async () => {
    const GROUP = -5005;
    await sb.ok(['daemon', 'restart'], { env: { TELEGRAM_NOTIFY_CHATS: `${OWNER.id},${GROUP}` } });
    // One quick task makes four events, three messages (the dequeue edits the first); pushes
    // are paced a second apart per chat.
    await sb.ok(['start', 'local/me/app#12', 'quick']);
    await tg.waitFor(() => tg.messagesIn(OWNER.id).length >= 1);
    const { pid } = await sb.json<{ pid: number }>(['daemon', 'status']);
    process.kill(pid, 'SIGKILL');
    await sb.ok(['daemon', 'start'], { env: { TELEGRAM_NOTIFY_CHATS: `${OWNER.id},${GROUP}` } });
    for (const chat of [OWNER.id, GROUP]) {
      const texts = await tg.waitFor(() => {
        const all = textsTo(chat);
        return all.length >= 3 && all[2]?.startsWith('✅') === true ? all : null;
      }, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(textsTo(chat)).toHaveLength(3);
      expect(new Set(texts).size).toBe(3);
      expect(texts.map((t) => t.split(' ')[0])).toEqual(['⏳', '▶️', '✅']);
    }
  });

  it('reports a second poller on the same token (409 Conflict) plainly', async () => {
    // Another process long-polls with the same token: Telegram terminates one of the two.
    void fetch(`${tg.apiRoot}/bot${tg.token}/getUpdates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ timeout: 2 }),
    }).catch(() => undefined);
    const log = await sb.until('the conflict to be logged', async () => {
      const text = await sb.ok(['daemon', 'logs']);
      return text.includes('409 Conflict') ? text : null;
    });
    expect(log).toContain(
      'telegram bot stopped: another process polls this bot token (409 Conflict)',
    );
  });

  it('falls back to plain text when Telegram rejects the HTML', async () => {
    tg.failNext('sendMessage', {
      error_code: 400,
      description: "Bad Request: can't parse entities: unexpected end tag at byte offset 9",
    });
    tg.userSends(OWNER, '/status');
    await tg.waitFor(() => tg.calls('sendMessage').length === 2);
    const [rejected, retried] = tg.calls('sendMessage');
    expect(rejected?.params['parse_mode']).toBe('HTML');
    expect(retried?.params['parse_mode']).toBeUndefined();
    expect(String(retried?.params['text'])).toMatch(/^status: ok\ndaemon: running/);
  });

  it('offers the known repositories as buttons when /delegate has no text and no default repo', async () => {
    await sb.ok(['start', 'local/me/app#1', 'first']);
    tg.userSends(OWNER, '/delegate');
    const question = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text === 'Which repository?'),
    );
    const buttons = (
      question.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }
    ).inline_keyboard.flat();
    expect(buttons.map((b) => [b.text, b.callback_data])).toEqual([['local/me/app', 'repo:0']]);
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: question.message_id }, 'repo:0');
    await tg.waitFor(() =>
      textsTo(OWNER.id).find((t) => t.startsWith('What should the agent do in local/me/app?')),
    );
    tg.userSends(OWNER, '20 tidy the README');
    const reply = await tg.waitFor(() =>
      textsTo(OWNER.id).find((t) => t.includes('queued for local/me/app#20')),
    );
    expect(reply).toBe('📥 Task #2 queued for local/me/app#20');
    expect(
      tg.messagesIn(OWNER.id).find((m) => m.message_id === question.message_id)?.reply_markup,
    ).toBeUndefined();
  });
});

describe('telegram bot in webhook mode', () => {
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
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ALLOWED_USERS: String(OWNER.id),
      TELEGRAM_WEBHOOK_URL: 'https://kugetsu.example.com/telegram',
      TELEGRAM_WEBHOOK_LISTEN: `127.0.0.1:${port}`,
      TELEGRAM_WEBHOOK_SECRET: 'hook_secret_123',
    });
    await sb.setup();
    await sb.ok(['daemon', 'start']);
  });

  afterEach(async () => {
    await sb.cleanup();
    await tg.close();
  });

  it('registers the webhook with its secret, and answers only calls that carry it', async () => {
    const registered = await tg.waitFor(() => tg.calls('setWebhook')[0]);
    expect(registered.params).toMatchObject({
      url: 'https://kugetsu.example.com/telegram',
      secret_token: 'hook_secret_123',
      allowed_updates: ['message', 'callback_query'],
    });
    const update = tg.userSends(OWNER, '/queue');
    const post = (secret: string) =>
      fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        body: JSON.stringify(update),
      });
    expect((await post('wrong')).status).toBe(401);
    expect((await post('hook_secret_123')).status).toBe(200);
    const reply = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text === 'The queue is empty.'),
    );
    expect(reply).toBeTruthy();
    expect(tg.calls('getUpdates')).toEqual([]);
  });
});

describe('telegram bot with a real agent', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;
  let model: ModelServer;

  beforeEach(async () => {
    tg = await FakeTelegram.start();
    model = await ModelServer.start();
    sb = botSandbox(tg);
    // The agent's own set-up, but `command` stays the default: /delegate picks claude.
    Object.assign(sb.env, agentSettings('claude', model, sb.dir), {
      KUGETSU_AGENT: 'command',
      KUGETSU_PM_AGENT: 'claude',
      ANTHROPIC_API_KEY: 'sk-test-key',
    });
    await startBot(sb, tg);
  });

  afterEach(async () => {
    await sb.cleanup();
    await tg.close();
    await model.close();
  });

  const texts = (): string[] =>
    tg.messagesIn(OWNER.id).map((m) => (m.text ?? '').replace(/<[^>]+>/g, ''));

  it('/delegate --agent claude; its command is asked about, denied from the phone; a reply continues', async () => {
    model.script('denied', [
      { shell: 'rm -rf /srv/elsewhere' },
      { answer: 'Not allowed, so I left /srv/elsewhere alone.' },
    ]);
    model.script('answered', [{ answer: 'Understood, leaving it.' }]);
    tg.userSends(OWNER, '/delegate --agent claude clean up local/me/app#30 [[denied]]');
    const asked = await tg.waitFor(
      () => tg.messagesIn(OWNER.id).find((m) => m.text?.includes('asks for permission')),
      60_000,
    );
    expect(asked.text).toContain('rm -rf /srv/elsewhere');
    const deny = asked.reply_markup?.inline_keyboard?.flat().find((b) => b.text === 'Deny') as
      { callback_data?: string } | undefined;
    tg.userPresses(
      OWNER,
      { chatId: OWNER.id, messageId: asked.message_id },
      deny?.callback_data ?? '',
    );
    // claude was told no and went on: the task completed, nothing ended as needs_input. (The
    // live status message shows the same last line while it still runs: the wait is for both.)
    const done = await tg.waitFor(
      () =>
        tg
          .messagesIn(OWNER.id)
          .find(
            (m) => m.text?.includes('left /srv/elsewhere alone') && m.text.includes('completed'),
          ),
      60_000,
    );
    expect(tg.messagesIn(OWNER.id).some((m) => /needs your input/.test(m.text ?? ''))).toBe(false);
    const buttons = done.reply_markup?.inline_keyboard?.flat().map((b) => b.text);
    expect(buttons).toEqual(['Continue', 'Logs', 'Destroy', 'Prune']);

    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: done.message_id }, 'continue:1');
    const prompt = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.startsWith('What should the agent do next')),
    );
    tg.userSends(OWNER, 'No, leave it [[answered]]', { replyTo: prompt.message_id });
    await tg.waitFor(
      () => texts().find((t) => t.includes('completed') && t.includes('Understood')),
      60_000,
    );
    const { sessions } = await sb.json<{ sessions: { agent: string; agentSessionId: string }[] }>([
      'list',
      '--all',
    ]);
    expect(sessions[0]?.agent).toBe('claude');
    // The reply went to the same claude session: its request carries the denied turn.
    expect(JSON.stringify(model.requestsFor('answered')[0]?.body)).toContain('[[denied]]');
    expect(tg.violations).toEqual([]);
  });

  it("pushes the PM agent's answer; a reply to it asks the PM again", async () => {
    model.script('pm-first', [{ answer: 'Nothing needs starting: the queue is empty.' }]);
    model.script('pm-second', [{ answer: 'Still nothing to do.' }]);
    tg.userSends(OWNER, '/delegate what is going on? [[pm-first]]');
    const answer = await tg.waitFor(
      () => tg.messagesIn(OWNER.id).find((m) => m.text?.includes('the queue is empty')),
      60_000,
    );
    tg.userSends(OWNER, 'and now? [[pm-second]]', { replyTo: answer.message_id });
    await tg.waitFor(() => texts().find((t) => t.includes('queued for the PM agent')));
    await tg.waitFor(() => texts().find((t) => t.includes('Still nothing to do.')), 60_000);
    // One PM session across both requests.
    expect(JSON.stringify(model.requestsFor('pm-second')[0]?.body)).toContain('[[pm-first]]');
  });
});
