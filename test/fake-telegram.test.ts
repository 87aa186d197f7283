/** The fake Bot API server itself: protocol, Telegram's rules, and a real grammY bot on it. */
import { Bot, InputFile, InlineKeyboard } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTelegram, type TelegramMessage, type Update } from './helpers/fake-telegram.js';

interface ApiResponse {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

const ALICE = { id: 42, first_name: 'Alice', username: 'alice' };

describe('FakeTelegram', () => {
  let fake: FakeTelegram;

  beforeEach(async () => {
    fake = await FakeTelegram.start();
  });

  afterEach(async () => {
    await fake.close();
  });

  async function call(
    method: string,
    body?: Record<string, unknown> | FormData,
    token = fake.token,
  ): Promise<{ status: number; json: ApiResponse }> {
    const init: RequestInit =
      body === undefined
        ? { method: 'GET' }
        : body instanceof FormData
          ? { method: 'POST', body }
          : {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            };
    const res = await fetch(`${fake.apiRoot}/bot${token}/${method}`, init);
    return { status: res.status, json: (await res.json()) as ApiResponse };
  }

  async function sent(body: Record<string, unknown>): Promise<TelegramMessage> {
    const { status, json } = await call('sendMessage', body);
    expect(json.description).toBeUndefined();
    expect(status).toBe(200);
    return json.result as TelegramMessage;
  }

  it('answers getMe over GET and POST', async () => {
    expect((await call('getMe')).json).toEqual({ ok: true, result: fake.botUser });
    expect((await call('getMe', {})).json.result).toEqual(fake.botUser);
    expect(fake.calls('getMe')).toHaveLength(2);
    expect(fake.violations).toEqual([]);
  });

  it('refuses a wrong token with 401 and an unknown method with 404', async () => {
    expect(await call('getMe', {}, '1:wrong')).toEqual({
      status: 401,
      json: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect(await call('getMeNow', {})).toEqual({
      status: 404,
      json: { ok: false, error_code: 404, description: 'Not Found: method not found' },
    });
  });

  it('reports fields the reference does not know, lacks or types differently', async () => {
    const unknown = await call('sendMessage', { chat_id: 1, text: 'hi', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.description).toBe('Bad Request: sendMessage: unknown field "colour"');

    const missing = await call('sendMessage', { text: 'hi' });
    expect(missing.status).toBe(400);
    expect(missing.json.description).toContain('missing required field "chat_id"');

    const mistyped = await call('sendMessage', {
      chat_id: 1,
      text: 'hi',
      disable_notification: 'yes',
      reply_markup: { inline_keyboard: [[{ text: 'Go', callback_data: 7 }]] },
    });
    expect(mistyped.status).toBe(400);

    expect(fake.violations).toEqual([
      'sendMessage: unknown field "colour"',
      'sendMessage: missing required field "chat_id"',
      'sendMessage: field "disable_notification" must be Boolean, got string',
      'sendMessage: field "reply_markup.inline_keyboard[0][0].callback_data" must be String, got number',
    ]);
    expect(fake.messagesIn(1)).toEqual([]);
  });

  it('counts message length after HTML parsing, in UTF-16 code units', async () => {
    const tooLong = await call('sendMessage', { chat_id: 1, text: 'a'.repeat(4097) });
    expect(tooLong.json).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: message is too long',
    });
    await sent({ chat_id: 1, text: 'a'.repeat(4096) });
    await sent({ chat_id: 1, text: `<b>${'&lt;'.repeat(4096)}</b>`, parse_mode: 'HTML' });
    const emoji = await call('sendMessage', { chat_id: 1, text: '😀'.repeat(2049) });
    expect(emoji.json.description).toBe('Bad Request: message is too long');
    const empty = await call('sendMessage', { chat_id: 1, text: '<b> </b>', parse_mode: 'HTML' });
    expect(empty.json.description).toBe('Bad Request: message text is empty');
    expect(fake.messagesIn(1)).toHaveLength(2);
  });

  it('parses HTML like Telegram: entities out, plain text back', async () => {
    const message = await sent({
      chat_id: 1,
      text: '<b>Task #3</b> &amp; <a href="https://example.com/x?a=1&amp;b=2">PR</a>\n<pre><code class="language-ts">x &lt; y</code></pre>',
      parse_mode: 'HTML',
    });
    expect(message.text).toBe('Task #3 & PR\nx < y');
    expect(message.entities).toEqual([
      { type: 'bold', offset: 0, length: 7 },
      { type: 'text_link', offset: 10, length: 2, url: 'https://example.com/x?a=1&b=2' },
      { type: 'pre', offset: 13, length: 5, language: 'ts' },
    ]);
    // Tests see what the bot wrote; the user-visible text is in the returned Message.
    expect(fake.messagesIn(1)[0]?.text).toMatch(/^<b>Task #3<\/b> &amp; <a href=/);
    expect(fake.messagesIn(1)[0]?.parse_mode).toBe('HTML');
  });

  it.each([
    ['<b>bold', `Can't find end tag corresponding to start tag "b"`],
    ['<b>x</i>', 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'],
    ['<foo>x</foo>', 'Unsupported start tag "foo" at byte offset 0'],
    ['1 < 2', 'Unsupported start tag "" at byte offset 2'],
    ['x</b>', 'Unexpected end tag at byte offset 1'],
    ['AT&T', 'bare "&" at byte offset 2; escape it as &amp;'],
  ])('rejects %j in HTML mode', async (text, reason) => {
    const { status, json } = await call('sendMessage', { chat_id: 1, text, parse_mode: 'HTML' });
    expect(status).toBe(400);
    expect(json.description).toBe(`Bad Request: can't parse entities: ${reason}`);
  });

  it('rejects callback data over 64 bytes', async () => {
    const keyboard = (data: string): unknown => ({
      inline_keyboard: [[{ text: 'Go', callback_data: data }]],
    });
    const long = await call('sendMessage', {
      chat_id: 1,
      text: 'x',
      reply_markup: keyboard('a'.repeat(65)),
    });
    expect(long.json.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    // 33 two-byte characters: 33 code units but 66 bytes.
    const wide = await call('sendMessage', {
      chat_id: 1,
      text: 'x',
      reply_markup: keyboard('é'.repeat(33)),
    });
    expect(wide.json.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    const fits = await sent({ chat_id: 1, text: 'x', reply_markup: keyboard('a'.repeat(64)) });
    expect(fits.reply_markup).toEqual(keyboard('a'.repeat(64)));
  });

  it('edits a message, and refuses an edit that changes nothing', async () => {
    const markup = { inline_keyboard: [[{ text: 'Stop', callback_data: 'stop:1' }]] };
    const first = await sent({ chat_id: ALICE.id, text: 'running', reply_markup: markup });

    const same = await call('editMessageText', {
      chat_id: ALICE.id,
      message_id: first.message_id,
      text: 'running',
      reply_markup: markup,
    });
    expect(same.status).toBe(400);
    expect(same.json.description).toMatch(/^Bad Request: message is not modified: specified new/);

    const edited = await call('editMessageText', {
      chat_id: ALICE.id,
      message_id: first.message_id,
      text: '<b>done</b>',
      parse_mode: 'HTML',
    });
    expect(edited.status).toBe(200);
    expect(edited.json.result).toMatchObject({ message_id: first.message_id, text: 'done' });
    expect(edited.json.result).not.toHaveProperty('reply_markup');

    const missing = await call('editMessageText', { chat_id: ALICE.id, message_id: 1, text: 'x' });
    expect(missing.json.description).toBe('Bad Request: message to edit not found');

    expect(fake.messagesIn(ALICE.id)).toEqual([
      { message_id: 1000, text: '<b>done</b>', parse_mode: 'HTML', edits: 1 },
    ]);
  });

  it('forgets updates below the offset, as Telegram confirms them', async () => {
    const one = fake.userSends(ALICE, '/start');
    const two = fake.userSends(ALICE, 'hello');
    expect([one.update_id, two.update_id]).toEqual([1, 2]);
    expect(one.message?.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);

    const all = await call('getUpdates', { offset: 0 });
    expect((all.json.result as Update[]).map((u) => u.update_id)).toEqual([1, 2]);
    const rest = await call('getUpdates', { offset: 2 });
    expect((rest.json.result as Update[]).map((u) => u.message?.text)).toEqual(['hello']);
    const again = await call('getUpdates', {});
    expect((again.json.result as Update[]).map((u) => u.update_id)).toEqual([2]);
  });

  it('holds a long poll until an update arrives', async () => {
    const started = Date.now();
    const poll = call('getUpdates', { offset: 1, timeout: 30 });
    await fake.waitFor(() => fake.calls('getUpdates').length === 1);
    fake.userSends(ALICE, 'wake up');
    const { json } = await poll;
    expect((json.result as Update[]).map((u) => u.message?.text)).toEqual(['wake up']);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('answers an idle long poll with [] after at most 2 seconds', async () => {
    const started = Date.now();
    expect((await call('getUpdates', { timeout: 1 })).json.result).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('ends the replaced poll with 409 when a second one starts', async () => {
    const first = call('getUpdates', { offset: 1, timeout: 30 });
    await fake.waitFor(() => fake.calls('getUpdates').length === 1);
    const second = call('getUpdates', { offset: 1, timeout: 30 });
    expect(await first).toEqual({
      status: 409,
      json: {
        ok: false,
        error_code: 409,
        description:
          'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      },
    });
    fake.userSends(ALICE, 'still here');
    expect(((await second).json.result as Update[]).map((u) => u.update_id)).toEqual([1]);
  });

  it('ends a pending poll when it closes', async () => {
    const poll = call('getUpdates', { timeout: 30 });
    await fake.waitFor(() => fake.calls('getUpdates').length === 1);
    const started = Date.now();
    await fake.close();
    await poll.catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('injects failures such as flood control', async () => {
    fake.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });
    expect(await call('sendMessage', { chat_id: 1, text: 'x' })).toEqual({
      status: 429,
      json: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        parameters: { retry_after: 1 },
      },
    });
    await sent({ chat_id: 1, text: 'x' });
    expect(fake.calls('sendMessage')).toHaveLength(2);
    expect(fake.messagesIn(1)).toHaveLength(1);
  });

  it('in an outage drops connections or answers the 502 page, and performs nothing', async () => {
    const poll = call('getUpdates', { timeout: 30 });
    await fake.waitFor(() => fake.calls('getUpdates').length === 1);
    fake.outage('drop');
    await expect(poll).rejects.toThrow();
    await expect(call('sendMessage', { chat_id: 1, text: 'lost' })).rejects.toThrow();
    fake.outage('bad-gateway');
    const res = await fetch(`${fake.apiRoot}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: 1, text: 'lost too' }),
    });
    expect([res.status, res.headers.get('content-type')]).toEqual([502, 'text/html']);
    expect(await res.text()).toContain('<title>502 Bad Gateway</title>');
    expect(fake.outageRequests.map((r) => [r.method, r.kind])).toEqual([
      ['sendMessage', 'drop'],
      ['sendMessage', 'bad-gateway'],
    ]);
    fake.restore();
    await sent({ chat_id: 1, text: 'delivered' });
    expect(fake.messagesIn(1).map((m) => m.text)).toEqual(['delivered']);
  });

  it('answers 401 to every call once the token is revoked', async () => {
    expect((await call('getMe')).status).toBe(200);
    fake.revokeToken();
    expect(await call('getMe')).toEqual({
      status: 401,
      json: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
  });

  it('takes a multipart document upload and records its content', async () => {
    const form = new FormData();
    form.set('chat_id', String(ALICE.id));
    form.set('caption', '<i>log</i>');
    form.set('parse_mode', 'HTML');
    form.set('disable_notification', 'true');
    form.set('document', new Blob(['line 1\nline 2\n']), 'agent.log');
    const { status, json } = await call('sendDocument', form);
    expect(status).toBe(200);
    expect(json.result).toMatchObject({
      chat: { id: ALICE.id, type: 'private' },
      caption: 'log',
      caption_entities: [{ type: 'italic', offset: 0, length: 3 }],
      document: { file_name: 'agent.log', file_size: 14 },
    });
    expect(fake.calls('sendDocument')[0]?.params).toEqual({
      chat_id: ALICE.id,
      caption: '<i>log</i>',
      parse_mode: 'HTML',
      disable_notification: true,
      document: { filename: 'agent.log', size: 14, content: 'line 1\nline 2\n' },
    });
    expect(fake.messagesIn(ALICE.id)).toEqual([
      {
        message_id: 1000,
        caption: '<i>log</i>',
        parse_mode: 'HTML',
        disable_notification: true,
        document: { file_name: 'agent.log', content: 'line 1\nline 2\n' },
        edits: 0,
      },
    ]);
    expect(fake.violations).toEqual([]);
  });

  it('feeds replies and button presses that point at bot messages', async () => {
    const message = await sent({ chat_id: ALICE.id, text: 'Task #1 done' });
    const reply = fake.userSends(ALICE, 'now add tests', { replyTo: message.message_id });
    expect(reply.message?.message_id).toBe(1001);
    expect(reply.message?.reply_to_message).toMatchObject({
      message_id: 1000,
      text: 'Task #1 done',
      from: fake.botUser,
    });
    const press = fake.userPresses(ALICE, { chatId: ALICE.id, messageId: 1000 }, 'logs:1');
    expect(press.callback_query).toMatchObject({ data: 'logs:1', message: { message_id: 1000 } });
    const id = press.callback_query?.id;
    expect((await call('answerCallbackQuery', { callback_query_id: id })).status).toBe(200);
    // A query is answered once; Telegram treats a second answer as too old.
    expect((await call('answerCallbackQuery', { callback_query_id: id })).status).toBe(400);
  });

  it('answers a reply to a user message and remembers commands, over urlencoded bodies', async () => {
    const question = fake.userSends(ALICE, 'status?');
    const form = new URLSearchParams({
      chat_id: String(ALICE.id),
      text: 'all quiet',
      reply_parameters: JSON.stringify({ message_id: question.message?.message_id }),
      reply_markup: JSON.stringify({ remove_keyboard: true }),
    });
    const res = await fetch(`${fake.apiRoot}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      body: form,
    });
    const json = (await res.json()) as ApiResponse;
    expect(json.result).toMatchObject({ reply_to_message: { text: 'status?' } });
    expect(fake.messagesIn(ALICE.id)).toEqual([
      {
        message_id: 1001,
        text: 'all quiet',
        reply_markup: { remove_keyboard: true },
        reply_to_message_id: 1000,
        edits: 0,
      },
    ]);

    const commands = [{ command: 'status', description: 'Status' }];
    expect((await call('setMyCommands', { commands })).json.result).toBe(true);
    expect((await call('getMyCommands', {})).json.result).toEqual(commands);
    expect(fake.violations).toEqual([]);
  });

  it('serves a real grammY bot', async () => {
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    bot.command('start', (ctx) =>
      ctx.reply('<b>Hello</b>', {
        parse_mode: 'HTML',
        reply_markup: new InlineKeyboard().text('Logs', 'logs:1'),
      }),
    );
    bot.callbackQuery(/^logs:/, async (ctx) => {
      await ctx.answerCallbackQuery();
      await ctx.editMessageText('Logs: none');
    });
    const running = bot.start({ drop_pending_updates: false });
    try {
      fake.userSends(ALICE, '/start');
      const [hello] = await fake.waitFor(() => {
        const messages = fake.messagesIn(ALICE.id);
        return messages.length > 0 && messages;
      });
      expect(hello).toMatchObject({ text: '<b>Hello</b>', parse_mode: 'HTML' });
      expect(hello?.reply_markup?.inline_keyboard?.[0]?.[0]?.callback_data).toBe('logs:1');

      fake.userPresses(ALICE, { chatId: ALICE.id, messageId: hello?.message_id ?? 0 }, 'logs:1');
      await fake.waitFor(() => fake.messagesIn(ALICE.id)[0]?.edits === 1);
      expect(fake.messagesIn(ALICE.id)[0]).toMatchObject({ text: 'Logs: none', edits: 1 });

      await bot.api.sendDocument(
        ALICE.id,
        new InputFile(Buffer.from('hello file'), 'notes; v2.txt'),
        {
          caption: 'notes',
        },
      );
      expect(fake.messagesIn(ALICE.id)[1]?.document).toEqual({
        file_name: 'notes; v2.txt',
        content: 'hello file',
      });
    } finally {
      await bot.stop();
      await running;
    }
    expect(fake.violations).toEqual([]);
    expect(fake.calls('answerCallbackQuery')).toHaveLength(1);
    // bot.stop() confirms the last update with one more getUpdates at the next offset.
    expect(fake.calls('getUpdates').at(-1)?.params).toEqual({ offset: 3, limit: 1 });
  });
});
