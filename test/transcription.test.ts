/** The transcription client against a local OpenAI-compatible endpoint, through its URL. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../core/errors.js';
import { transcribe } from '../core/transcription.js';
import { heardHtml } from '../bot/features/voice.js';
import { FakeTranscriber } from './helpers/fake-transcriber.js';

const KEY = 'sk-test-transcribe-998877';
const audio = { data: Buffer.from('OggS hello'), fileName: 'voice.ogg', mime: 'audio/ogg' };

describe('transcribe', () => {
  let whisper: FakeTranscriber;
  beforeAll(async () => {
    whisper = await FakeTranscriber.start(KEY);
  });
  afterAll(() => whisper.close());

  it('posts the file and model as multipart with the bearer key, and returns the text', async () => {
    whisper.script(audio.data, '  Fix the login bug.  ');
    const text = await transcribe({ url: whisper.url, apiKey: KEY, model: 'whisper-1' }, audio);
    expect(text).toBe('Fix the login bug.');
    expect(whisper.requests.at(-1)).toMatchObject({
      model: 'whisper-1',
      fileName: 'voice.ogg',
      contentType: 'audio/ogg',
      fields: { model: 'whisper-1', response_format: 'json' },
    });
  });

  it('fails in one line with the endpoint’s words, never the key', async () => {
    const wrong = transcribe({ url: whisper.url, apiKey: 'sk-nope-123456', model: 'm' }, audio);
    await expect(wrong).rejects.toThrow(
      new OperationError('transcription failed: 401 Incorrect API key provided.'),
    );
    const format = transcribe(
      { url: whisper.url, apiKey: KEY, model: 'm' },
      { ...audio, fileName: 'voice.bin' },
    );
    await expect(format).rejects.toThrow(/^transcription failed: 400 Invalid file format/);
  });

  it('says what went wrong when the endpoint is not there or not speaking the protocol', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.url === '/html' ? '<html>proxy</html>' : '{"no":"text"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(
        transcribe({ url: `http://127.0.0.1:${port}/html`, apiKey: KEY, model: 'm' }, audio),
      ).rejects.toThrow('transcription failed: the endpoint answered with something not JSON');
      await expect(
        transcribe({ url: `http://127.0.0.1:${port}/x`, apiKey: KEY, model: 'm' }, audio),
      ).rejects.toThrow('transcription failed: the answer has no "text"');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await expect(
      transcribe({ url: `http://127.0.0.1:${port}/gone`, apiKey: KEY, model: 'm' }, audio),
      // Refused, or a pipe broken under a kept-alive connection: a system error code either way.
    ).rejects.toThrow(
      new RegExp(
        `^transcription failed: cannot reach http://127\\.0\\.0\\.1:${port} \\(E[A-Z]+\\)$`,
      ),
    );
  });

  it('echoes a transcript escaped and short enough for one message', () => {
    expect(heardHtml('a <b>')).toBe('🎙 I heard: <i>a &lt;b&gt;</i>');
    expect(heardHtml('&'.repeat(10_000)).length).toBeLessThan(4096);
  });
});
