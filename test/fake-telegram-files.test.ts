/** The fake Bot API's files: what users send, `getFile`, and the download URL. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTelegram, type TelegramFile, type Update } from './helpers/fake-telegram.js';

const ALICE = { id: 42, first_name: 'Alice' };

describe('FakeTelegram files', () => {
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
});
