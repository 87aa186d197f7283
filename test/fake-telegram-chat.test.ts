/** The fake Bot API's files (what users send, `getFile`, the download URL) and forum topics. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTelegram, type TelegramFile, type Update } from './helpers/fake-telegram.js';

const ALICE = { id: 42, first_name: 'Alice' };

describe('FakeTelegram files and topics', () => {
  let fake: FakeTelegram;
  beforeEach(async () => {
    fake = await FakeTelegram.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  async function call(method: string, body: Record<string, unknown>) {
    const res = await fetch(`${fake.apiRoot}/bot${fake.token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { ok: boolean; result?: unknown; description?: string };
  }

  async function updates(): Promise<Update[]> {
    return (await call('getUpdates', {})).result as Update[];
  }

  it('delivers a photo in sizes, largest last, with its caption command, and serves each size', async () => {
    const content = Buffer.from('x'.repeat(2000));
    fake.userSendsPhoto(ALICE, content, { caption: '/delegate me/app#1 look' });
    const [update] = await updates();
    const message = update?.message;
    expect(message?.caption).toBe('/delegate me/app#1 look');
    expect(message?.caption_entities).toEqual([{ type: 'bot_command', offset: 0, length: 9 }]);
    const sizes = message?.photo ?? [];
    expect(sizes.map((s) => s.width)).toEqual([90, 1280]);
    const file = (await call('getFile', { file_id: sizes[1]?.file_id })).result as TelegramFile;
    expect(file.file_size).toBe(2000);
    expect(file.file_path).toMatch(/^photos\/file_\d+\.jpg$/);
    const download = await fetch(`${fake.apiRoot}/file/bot${fake.token}/${file.file_path}`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);
    const wrong = await fetch(`${fake.apiRoot}/file/bot1:wrong/${file.file_path}`);
    expect(wrong.status).toBe(404);
    // The token never appears in what the fake records.
    expect(JSON.stringify(fake.requests)).not.toContain(fake.token);
    expect(fake.violations).toEqual([]);
  });

  it('refuses getFile over 20 MB and unknown ids, as Telegram does', async () => {
    fake.userSendsDocument(ALICE, Buffer.alloc(20 * 1024 * 1024 + 1), { fileName: 'big.bin' });
    const [update] = await updates();
    const id = update?.message?.document?.file_id;
    expect(update?.message?.document?.file_name).toBe('big.bin');
    expect(await call('getFile', { file_id: id })).toMatchObject({
      ok: false,
      description: 'Bad Request: file is too big',
    });
    expect(await call('getFile', { file_id: 'nope' })).toMatchObject({
      ok: false,
      description: 'Bad Request: invalid file_id',
    });
  });

  it('can leave the size out, and then sends the file without a Content-Length', async () => {
    fake.userSendsVoice(ALICE, Buffer.from('OggS voice'), { omitSize: true, duration: 2 });
    const [update] = await updates();
    const voice = update?.message?.voice;
    expect(voice).toMatchObject({ duration: 2, mime_type: 'audio/ogg' });
    expect(voice?.file_size).toBeUndefined();
    const file = (await call('getFile', { file_id: voice?.file_id })).result as TelegramFile;
    expect(file.file_size).toBeUndefined();
    const download = await fetch(`${fake.apiRoot}/file/bot${fake.token}/${file.file_path}`);
    expect(download.headers.get('content-length')).toBeNull();
    expect(await download.text()).toBe('OggS voice');
  });

  it('runs forum topics: create (name cut to 128), send into one, close, and refuse a closed one', async () => {
    const FORUM = -1001234567890;
    fake.makeForum(FORUM);
    expect(await call('createForumTopic', { chat_id: 42, name: 'x' })).toMatchObject({
      ok: false,
      description: 'Bad Request: the chat is not a forum',
    });
    const created = await call('createForumTopic', { chat_id: FORUM, name: 'é'.repeat(200) });
    const topic = created.result as { message_thread_id: number; name: string };
    expect([...topic.name]).toHaveLength(128);
    const sent = await call('sendMessage', {
      chat_id: FORUM,
      message_thread_id: topic.message_thread_id,
      text: 'hello topic',
    });
    expect(sent.result).toMatchObject({
      message_thread_id: topic.message_thread_id,
      is_topic_message: true,
      reply_to_message: { message_id: topic.message_thread_id },
    });
    expect(fake.messagesInTopic(FORUM, topic.message_thread_id).map((m) => m.text)).toEqual([
      'hello topic',
    ]);
    // A user's message in the topic "replies" to its first message, as on Telegram.
    fake.userSends(ALICE, 'in the topic', {
      chat: { id: FORUM, type: 'supergroup' },
      thread: topic.message_thread_id,
    });
    const [update] = await updates();
    expect(update?.message).toMatchObject({
      chat: { id: FORUM, is_forum: true },
      message_thread_id: topic.message_thread_id,
      is_topic_message: true,
      reply_to_message: {
        message_id: topic.message_thread_id,
        forum_topic_created: { name: topic.name },
      },
    });
    const close = { chat_id: FORUM, message_thread_id: topic.message_thread_id };
    expect((await call('closeForumTopic', close)).ok).toBe(true);
    expect(await call('closeForumTopic', close)).toMatchObject({
      description: 'Bad Request: TOPIC_NOT_MODIFIED',
    });
    expect(await call('sendMessage', { ...close, text: 'late' })).toMatchObject({
      description: 'Bad Request: TOPIC_CLOSED',
    });
    expect(
      await call('sendMessage', { chat_id: FORUM, message_thread_id: 9999, text: 'x' }),
    ).toMatchObject({
      description: 'Bad Request: message thread not found',
    });
    expect(fake.topics(FORUM)).toEqual([
      { threadId: topic.message_thread_id, name: topic.name, closed: true },
    ]);
    expect((await call('getChat', { chat_id: FORUM })).result).toMatchObject({
      is_forum: true,
      type: 'supergroup',
    });
    expect(fake.violations).toEqual([]);
  });
});
