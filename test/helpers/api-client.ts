/**
 * A client of kugetsu's HTTP API for tests: plain fetch against the real server, and a
 * Server-Sent Events reader that parses the stream as a browser would and can be dropped
 * mid-stream (to test resumption).
 */
import { freePort } from './free-port.js';
import type { Sandbox } from './sandbox.js';

export { freePort };

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export class ApiClient {
  constructor(
    readonly base: string,
    readonly token: string | null,
  ) {}

  withToken(token: string | null): ApiClient {
    return new ApiClient(this.base, token);
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.token === null ? {} : { authorization: `Bearer ${this.token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text === '' ? {} : JSON.parse(text)) as T,
    };
  }

  get<T = Record<string, unknown>>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }

  post<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, body);
  }

  /** Opens an SSE stream; `lastEventId` resumes it. */
  async stream(path: string, lastEventId?: string): Promise<SseStream> {
    const abort = new AbortController();
    const res = await fetch(`${this.base}${path}`, {
      headers: {
        ...(this.token === null ? {} : { authorization: `Bearer ${this.token}` }),
        accept: 'text/event-stream',
        ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
      },
      signal: abort.signal,
    });
    if (res.status !== 200 || res.body === null)
      throw new Error(`stream ${path}: ${res.status} ${await res.text()}`);
    return new SseStream(res.body, abort);
  }
}

export interface SseMessage {
  event: string;
  id: string | null;
  data: string;
  /** When the message was parsed, for delivery delays. */
  at: number;
}

export class SseStream {
  readonly messages: SseMessage[] = [];
  /** The id of the last message that had one: what a browser would resume with. */
  lastEventId: string | null = null;
  readonly done: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly abort: AbortController,
  ) {
    this.done = this.read(body).catch(() => undefined);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.parse(block);
      }
    }
  }

  private parse(block: string): void {
    let event = 'message';
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0 && id === null) return;
    if (id !== null) this.lastEventId = id;
    this.messages.push({ event, id, data: data.join('\n'), at: Date.now() });
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until `check` holds for the messages so far. */
  async until(
    what: string,
    check: (messages: SseMessage[]) => boolean,
    timeoutMs = 60_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push(resolve)),
        new Promise((resolve) => setTimeout(resolve, 200)),
        this.done,
      ]);
    }
  }

  close(): void {
    this.abort.abort();
  }
}

/** A token made by the real CLI. */
export async function createToken(sb: Sandbox, name: string, readOnly = false): Promise<string> {
  const out = await sb.json<{ token: string }>([
    'api',
    'token',
    'create',
    name,
    ...(readOnly ? ['--read-only'] : []),
  ]);
  return out.token;
}

/**
 * The daemon of the sandbox's home, serving the API on a free port (KUGETSU_HTTP_LISTEN), with
 * a full token; resolves once the API answers.
 */
export async function daemonWithApi(sb: Sandbox): Promise<ApiClient> {
  const port = await freePort();
  sb.env['KUGETSU_HTTP_LISTEN'] = `127.0.0.1:${port}`;
  const token = await createToken(sb, 'test');
  await sb.ok(['daemon', 'start']);
  const api = new ApiClient(`http://127.0.0.1:${port}`, token);
  await sb.until(
    'the API to answer',
    async () => (await api.get('/api/v1/status').catch(() => null))?.status === 200,
  );
  return api;
}
