/**
 * The one HTTP layer under every forge client: base URL, auth, JSON, a timeout, `Link`
 * pagination and conditional GETs; its failures are forge-errors.ts's. Built on global `fetch`
 * so tests point it at a local fake through the base URL alone.
 */
import type { Conditional, ConditionalRequest } from './forge-api.js';
import { ForgeError, statusReason } from './forge-errors.js';

export interface ForgeHttpOptions {
  /** The server's name in kugetsu (`gh`), for messages. */
  serverName: string;
  /** `github`, `gitea` or `gitlab`, for messages. */
  kind: string;
  /** The API root, e.g. `https://api.github.com` or `https://git.example.com/api/v1`. */
  baseUrl: string;
  /** The auth header(s) carrying the token; empty without a token. */
  authHeaders: Record<string, string>;
  /** Extra headers every request sends (GitHub's `Accept` and API version). */
  headers?: Record<string, string>;
  /** The token itself, only so it can be scrubbed out of anything a forge echoes back. */
  token: string | null;
  /** The variable the token came from, named (never its value) in a 401 hint. */
  tokenEnv: string | null;
  fetch?: typeof fetch;
  /** Per request. Default 30 000. */
  timeoutMs?: number;
}

export type Query = Record<string, string | number | undefined>;

export interface ForgeResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

/** Enough pages for any issue list kugetsu reads; a bound so a looping `Link` cannot hang us. */
export const MAX_PAGES = 50;

const DEFAULT_TIMEOUT_MS = 30_000;

export class ForgeHttp {
  private readonly base: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: ForgeHttpOptions) {
    this.base = new URL(options.baseUrl.replace(/\/+$/, ''));
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** `path` is relative to the API root and already encoded (see {@link encodePath}). */
  url(path: string, query: Query = {}): URL {
    const url = new URL(this.base.href.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.send<T>('GET', this.url(path, query))).data;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.send<T>('POST', this.url(path), { body })).data;
  }

  async patch<T>(path: string, body: unknown): Promise<T> {
    return (await this.send<T>('PATCH', this.url(path), { body })).data;
  }

  async put<T>(path: string, body: unknown): Promise<T> {
    return (await this.send<T>('PUT', this.url(path), { body })).data;
  }

  /** A GET whose answer the caller inspects itself (headers; statuses it tolerates). */
  async raw<T>(path: string, query?: Query, accept: number[] = []): Promise<ForgeResponse<T>> {
    return this.send<T>('GET', this.url(path, query), { accept });
  }

  /** Every page of a list, following `Link: <…>; rel="next"`. */
  async all<T>(path: string, query?: Query): Promise<T[]> {
    const result = await this.allConditional<T>(path, query, {});
    return result.notModified ? [] : result.items;
  }

  /**
   * Every page of a list, the first request conditional on `since`: a 304 there means nothing
   * changed, so the later pages are not fetched. The validators returned are the first page's.
   */
  async allConditional<T>(
    path: string,
    query: Query | undefined,
    since: ConditionalRequest,
  ): Promise<Conditional<T[]>> {
    const headers: Record<string, string> = {};
    if (since.etag) headers['If-None-Match'] = since.etag;
    if (since.lastModified) headers['If-Modified-Since'] = since.lastModified;
    const first = await this.send<T[]>('GET', this.url(path, query), { headers, accept: [304] });
    const etag = first.headers.get('etag') ?? (first.status === 304 ? (since.etag ?? null) : null);
    const lastModified =
      first.headers.get('last-modified') ??
      (first.status === 304 ? (since.lastModified ?? null) : null);
    if (first.status === 304) return { notModified: true, etag, lastModified };
    const items = [...this.asArray(first, path)];
    let next = this.nextLink(first.headers);
    for (let page = 1; next && page < MAX_PAGES; page++) {
      const response = await this.send<T[]>('GET', next);
      items.push(...this.asArray(response, path));
      next = this.nextLink(response.headers);
    }
    return { notModified: false, items, etag, lastModified };
  }

  private asArray<T>(response: ForgeResponse<T[]>, path: string): T[] {
    if (Array.isArray(response.data)) return response.data;
    throw this.error('GET', path, `${response.status} expected a JSON list`, response.status);
  }

  /** Only same-origin links are followed: the token must never go to a host a forge names. */
  private nextLink(headers: Headers): URL | null {
    const target = parseNextLink(headers.get('link'));
    if (target === null) return null;
    const url = new URL(target, this.base);
    return url.origin === this.base.origin ? url : null;
  }

  private async send<T>(
    method: string,
    url: URL,
    extra: { body?: unknown; headers?: Record<string, string>; accept?: number[] } = {},
  ): Promise<ForgeResponse<T>> {
    const label = this.relativePath(url);
    const headers: Record<string, string> = {
      'User-Agent': 'kugetsu',
      Accept: 'application/json',
      ...this.options.headers,
      ...this.options.authHeaders,
      ...extra.headers,
    };
    if (extra.body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await this.fetchWithRedirects(url, {
        method,
        headers,
        body: extra.body === undefined ? undefined : JSON.stringify(extra.body),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'manual',
      });
      text = await response.text();
    } catch (err) {
      throw this.error(method, label, this.networkReason(err), null);
    }
    const accepted = extra.accept ?? [];
    if (!response.ok && !accepted.includes(response.status)) {
      throw this.error(method, label, this.httpReason(response, text), response.status);
    }
    let data: unknown = null;
    if (text.trim() !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        throw this.error(
          method,
          label,
          `${response.status} answered with non-JSON`,
          response.status,
        );
      }
    }
    return { status: response.status, data: data as T, headers: response.headers };
  }

  /**
   * Follows same-origin redirects only (GitHub answers 301 for a renamed repository): the
   * auth headers (GitLab's `PRIVATE-TOKEN` among them) must never travel to another host.
   */
  private async fetchWithRedirects(url: URL, init: RequestInit): Promise<Response> {
    let target = url;
    for (let hop = 0; ; hop++) {
      const response = await this.fetchImpl(target, init);
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location || hop >= 5) {
        return response;
      }
      const next = new URL(location, target);
      if (next.origin !== this.base.origin) return response;
      await response.body?.cancel();
      target = next;
    }
  }

  /** The path under the API root (no query): what a person needs to see, nothing secret. */
  private relativePath(url: URL): string {
    const basePath = this.base.pathname.replace(/\/+$/, '');
    return url.pathname.startsWith(basePath + '/')
      ? url.pathname.slice(basePath.length)
      : url.pathname;
  }

  private error(method: string, path: string, reason: string, status: number | null): ForgeError {
    const { serverName, kind } = this.options;
    const line = `forge ${serverName} (${kind}): ${method} ${path} failed: ${reason}`;
    const flat = (text: string): string => this.scrub(text).replace(/[\r\n\t]+/g, ' ');
    return new ForgeError(flat(line), status, flat(reason));
  }

  private scrub(text: string): string {
    const token = this.options.token;
    return token ? text.split(token).join('***') : text;
  }

  private networkReason(err: unknown): string {
    const error = err as {
      name?: string;
      cause?: { code?: string; message?: string; errors?: { code?: string }[] };
    };
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      const limit =
        this.timeoutMs < 1000 ? `${this.timeoutMs} ms` : `${Math.round(this.timeoutMs / 1000)} s`;
      return `no answer from ${this.base.origin} within ${limit}`;
    }
    // Happy-eyeballs failures arrive as an AggregateError: one code per address tried.
    const code =
      error.cause?.code ?? error.cause?.errors?.[0]?.code ?? error.cause?.message ?? String(err);
    // fetch refuses the WHATWG "bad ports" (9, 25, 6000, …) before connecting.
    const reason = code === 'bad port' ? `port ${this.base.port} is blocked by fetch` : code;
    return `cannot connect to ${this.base.origin} (${reason})`;
  }

  private httpReason(response: Response, text: string): string {
    const location = response.status < 400 ? response.headers.get('location') : null;
    if (location) {
      const origin = new URL(location, this.base).origin;
      return `${response.status} redirected to ${origin}, not followed (another host must not get the token)`;
    }
    return statusReason(response, text, this.options.tokenEnv);
  }
}

/** `encodeURIComponent` on each value, joined by `/`: `/repos/{o}/{r}` stays one path per input. */
export function encodePath(...segments: (string | number)[]): string {
  return segments.map((s) => '/' + encodeURIComponent(String(s))).join('');
}

/** The `rel="next"` target of an RFC 8288 `Link` header, or null. */
export function parseNextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rels = match[2]!
      .split(';')
      .map((param) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param)?.[1])
      .filter((rel): rel is string => rel !== undefined)
      .flatMap((rel) => rel.toLowerCase().split(/\s+/));
    if (rels.includes('next')) return match[1]!;
  }
  return null;
}
