/**
 * One task run's conversation with its own `opencode serve`: once the server says where it
 * listens, subscribe to its events, open the session (new, continued or forked) with this run's
 * permission rules, send the prompt, and turn the events into the lines `opencode run --format
 * json` prints. What opencode asks (a permission, a question) goes through kugetsu's gate and
 * its answer back to the server; the session going idle ends the run.
 */
import { basename, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ApprovalAnswer, ApprovalRequest } from '../../approvals/approval.js';
import { MASK } from '../../secrets.js';
import { oneLine, record, str } from '../agent-output.js';
import type { AgentDriver, DriverIo } from '../agent-backend.js';
import {
  EventReader,
  EventStreamParser,
  listeningUrl,
  serverEvent,
  type EventReading,
} from './opencode-events.js';
import { nodeTransport, type HttpTransport } from './opencode-http.js';
import {
  permissionReply,
  permissionRequest,
  questionAnswers,
  questionRequest,
  rulesToAppend,
  type PermissionRule,
} from './opencode-permissions.js';

export type SessionStart =
  { kind: 'new' } | { kind: 'continue'; sessionID: string } | { kind: 'fork'; from: string };

export interface OpencodeRunSpec {
  worktree: string;
  prompt: string;
  /** `provider/model`, already checked. */
  model: string | null;
  session: SessionStart;
  /** Attached images, by absolute path: sent as file parts of the prompt. */
  images: readonly string[];
  rules: PermissionRule[];
  /** Basic auth the server was started with (OPENCODE_SERVER_USERNAME/PASSWORD). */
  username: string;
  password: string;
}

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

/** A request to the server is answered in milliseconds; the first one in a directory takes seconds. */
const REQUEST_TIMEOUT_MS = 120_000;

class ServerError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function opencodeDriver(
  spec: OpencodeRunSpec,
  transport: HttpTransport = nodeTransport(),
): AgentDriver {
  let io: DriverIo | null = null;
  let started = false;
  // The password is in the server's environment, so also in its tools': never in a line.
  const hide = (text: string): string => text.split(spec.password).join(MASK);

  return {
    start(driverIo) {
      io = driverIo;
    },
    line(text) {
      if (started || io === null) return;
      const url = listeningUrl(text);
      if (url === null) return;
      started = true;
      const run = io;
      // The run's connections end with it, however it ends.
      run.signal.addEventListener('abort', () => transport.close(), { once: true });
      converse(url, run).catch((err: unknown) => {
        if (run.signal.aborted) return;
        run.finish({ error: `opencode: ${hide(oneLine(errorText(err), 400))}` });
      });
    },
  };

  async function converse(base: string, io: DriverIo): Promise<void> {
    const http = client(base, spec, io.signal, transport);
    // Subscribed first, so nothing the session does is missed; read once the session is known.
    const stream = await http.stream('/event');
    const sessionID = await openSession(http);
    const reader = new EventReader(sessionID);
    const settled = new Set<string>();
    const emit = (line: string): void => io.emit(hide(line));

    const handle = (reading: EventReading): boolean => {
      for (const line of reading.lines) emit(line);
      if (reading.settled !== undefined) settled.add(reading.settled);
      if (reading.permission !== undefined) {
        const asked = reading.permission;
        answer(asked.id, permissionRequest(asked, reader.toolCall(asked.tool?.callID)), (a) =>
          http.post(`/permission/${encodeURIComponent(asked.id)}/reply`, permissionReply(a)),
        );
      }
      if (reading.question !== undefined) {
        const asked = reading.question;
        answer(asked.id, questionRequest(asked), (a) =>
          http.post(`/question/${encodeURIComponent(asked.id)}/reply`, {
            answers: questionAnswers(asked, a),
          }),
        );
      }
      return reading.idle === true;
    };

    // Each request waits for its own answer while the events go on (other tool calls, other
    // requests, the server's heartbeats).
    const answer = (
      id: string,
      request: ApprovalRequest,
      send: (answer: ApprovalAnswer) => Promise<unknown>,
    ): void => {
      void (async () => {
        const given = await io.ask({
          ...request,
          subject: hide(request.subject),
          reason: request.reason === null ? null : hide(request.reason),
        });
        // Stopped: the server goes with the run. Settled: a sibling's reply answered it already.
        if (io.signal.aborted || settled.has(id)) return;
        await send(given);
      })().catch((err: unknown) => {
        if (!io.signal.aborted)
          io.note(`could not answer opencode's request ${id}: ${errorText(err)}`);
      });
    };

    const events = (async (): Promise<'idle' | 'ended'> => {
      const parser = new EventStreamParser();
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        for (const data of parser.push(decoder.decode(chunk, { stream: true }))) {
          const event = serverEvent(data);
          if (event !== null && handle(reader.read(event))) return 'idle';
        }
      }
      return 'ended';
    })();
    // Read to its end even when the prompt is refused: a stopped run aborts the stream.
    events.catch(() => undefined);
    // Only this run's events follow: a new or forked session has no turn of its own yet, and a
    // continued one was idle when its server started.
    await http.post(`/session/${encodeURIComponent(sessionID)}/prompt_async`, promptBody(spec));
    const how = await events;
    if (io.signal.aborted) return;
    if (how === 'ended') {
      io.finish({
        error: 'opencode: the server ended its event stream before the session finished',
      });
      return;
    }
    const error = reader.error;
    io.finish({ error: error === null ? null : `opencode: ${hide(oneLine(error, 300))}` });
  }

  /** The session this run prompts, with this run's rules appended to what it has. */
  async function openSession(http: Client): Promise<string> {
    const { session } = spec;
    if (session.kind === 'new') {
      const created = record(await http.post('/session', { permission: spec.rules }));
      return requireId(created, 'the new session');
    }
    const fromID = session.kind === 'continue' ? session.sessionID : session.from;
    const existing = record(await getSession(http, fromID));
    let target = existing;
    if (session.kind === 'fork') {
      target = record(await http.post(`/session/${encodeURIComponent(fromID)}/fork`, {}));
    }
    const id = requireId(target, session.kind === 'fork' ? 'the forked session' : fromID);
    const stored = Array.isArray(target['permission'])
      ? (target['permission'] as PermissionRule[])
      : undefined;
    const append = rulesToAppend(stored, spec.rules);
    if (append.length > 0)
      await http.patch(`/session/${encodeURIComponent(id)}`, { permission: append });
    return id;
  }

  async function getSession(http: Client, id: string): Promise<unknown> {
    try {
      return await http.get(`/session/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ServerError && err.status === 404)
        throw new Error(`opencode has no session ${id} (Session not found)`);
      throw err;
    }
  }
}

/** The prompt request: attached images as file parts, then the text. */
export function promptBody(spec: OpencodeRunSpec): Record<string, unknown> {
  const files = spec.images.map((path) => ({
    type: 'file',
    mime: IMAGE_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    url: pathToFileURL(path).href,
    filename: basename(path),
  }));
  const body: Record<string, unknown> = { parts: [...files, { type: 'text', text: spec.prompt }] };
  if (spec.model !== null) {
    const [providerID, ...rest] = spec.model.split('/');
    body['model'] = { providerID, modelID: rest.join('/') };
  }
  return body;
}

function requireId(session: Record<string, unknown>, what: string): string {
  const id = str(session['id']);
  if (id === null) throw new Error(`opencode returned no id for ${what}`);
  return id;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

interface Client {
  get(path: string): Promise<unknown>;
  post(path: string, body: unknown): Promise<unknown>;
  patch(path: string, body: unknown): Promise<unknown>;
  /** The body of a server-sent event stream. */
  stream(path: string): Promise<AsyncIterable<Uint8Array>>;
}

/** The server's HTTP API, every request for the worktree's instance, with basic auth. */
function client(
  base: string,
  spec: OpencodeRunSpec,
  signal: AbortSignal,
  transport: HttpTransport,
): Client {
  const authorization = `Basic ${Buffer.from(`${spec.username}:${spec.password}`).toString('base64')}`;
  const url = (path: string): string =>
    `${base}${path}${path.includes('?') ? '&' : '?'}directory=${encodeURIComponent(spec.worktree)}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const { status, text } = await transport.send({
      method,
      url: url(path),
      headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    if (status < 200 || status > 299) {
      throw new ServerError(
        `${method} ${path}: HTTP ${status}${text === '' ? '' : ` ${oneLine(text, 200)}`}`,
        status,
      );
    }
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return null;
    }
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    patch: (path, body) => call('PATCH', path, body),
    async stream(path) {
      const { status, body } = await transport.stream({
        method: 'GET',
        url: url(path),
        headers: { authorization, accept: 'text/event-stream' },
        signal,
      });
      if (status !== 200) throw new ServerError(`GET ${path}: HTTP ${status}`, status);
      return body;
    },
  };
}
