/**
 * A local OpenAI-compatible transcription endpoint (`POST /v1/audio/transcriptions`): it checks
 * the bearer key and the multipart body (`file` with a file name, `model`) as OpenAI does, and
 * answers `{ "text": … }` with the transcript scripted for that audio, or OpenAI's error shape.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TranscriptionRequest {
  model: string;
  fileName: string;
  contentType: string;
  audio: Buffer;
  fields: Record<string, string>;
}

const PATH = '/v1/audio/transcriptions';

export class FakeTranscriber {
  /** Every request that passed the checks. */
  readonly requests: TranscriptionRequest[] = [];
  /** Requests refused (a wrong key, a malformed body), with the status given. */
  readonly refused: { status: number; message: string }[] = [];
  private readonly scripts = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly apiKey: string,
  ) {}

  /** The endpoint's full URL, as KUGETSU_TRANSCRIBE_URL takes it. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${PATH}`;
  }

  static async start(apiKey: string): Promise<FakeTranscriber> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeTranscriber(server, apiKey);
    server.on('request', (req, res) => void fake.handle(req, res));
    return fake;
  }

  /** The transcript of `audio` (matched byte for byte); anything else is heard as silence. */
  script(audio: Buffer, text: string): void {
    this.scripts.set(audio.toString('base64'), text);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number, message: string, type = 'invalid_request_error'): void => {
      this.refused.push({ status, message });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message, type, param: null, code: null } }));
    };
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || req.url !== PATH)
      return refuse(404, `Invalid URL (${req.method} ${req.url})`);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return refuse(401, 'Incorrect API key provided.');
    }
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
    const marker = boundary?.[1] ?? boundary?.[2];
    if (marker === undefined) return refuse(400, 'Expected multipart/form-data');
    const fields: Record<string, string> = {};
    let file: { name: string; type: string; data: Buffer } | null = null;
    for (const part of splitParts(body, marker)) {
      const name = /name="([^"]*)"/.exec(part.headers)?.[1] ?? '';
      const fileName = /filename="([^"]*)"/.exec(part.headers)?.[1];
      if (fileName !== undefined) {
        const type = /content-type:\s*([^\r\n]+)/i.exec(part.headers)?.[1]?.trim() ?? '';
        if (name === 'file') file = { name: fileName, type, data: part.data };
      } else fields[name] = part.data.toString('utf8');
    }
    if (file === null) return refuse(400, "Missing required parameter: 'file'.");
    if (!/\.(flac|mp3|mp4|mpeg|mpga|m4a|ogg|oga|wav|webm)$/.test(file.name)) {
      return refuse(
        400,
        `Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']`,
      );
    }
    const model = fields['model'];
    if (model === undefined || model === '')
      return refuse(400, "Missing required parameter: 'model'.");
    this.requests.push({
      model,
      fileName: file.name,
      contentType: file.type,
      audio: file.data,
      fields,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ text: this.scripts.get(file.data.toString('base64')) ?? '' }));
  }
}

function splitParts(body: Buffer, boundary: string): { headers: string; data: Buffer }[] {
  const parts: { headers: string; data: Buffer }[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      parts.push({
        headers: part.subarray(0, split).toString('utf8'),
        data: part.subarray(split + 4),
      });
    }
    at = next;
  }
  return parts;
}
