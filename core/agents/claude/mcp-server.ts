/**
 * A minimal MCP server on stdio: newline-delimited JSON-RPC 2.0, the methods a tool server needs
 * (`initialize`, `ping`, `tools/list`, `tools/call`, and the `notifications/initialized` and
 * `notifications/cancelled` notifications). Written by hand rather than with
 * @modelcontextprotocol/sdk: four methods are a hundred lines, the process claude starts stays
 * quick to start with no dependency tree behind it, and nothing here needs HTTP transports,
 * sampling or schema validation. Stdout carries protocol messages only.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** Newest first. Nothing this server does differs between them. */
export const MCP_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

export interface McpTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** The tool's text result. A throw becomes an error result the client shows the model. */
  call(args: Record<string, unknown>, signal: AbortSignal): Promise<string>;
}

export interface McpServerOptions {
  name: string;
  version: string;
  tools: readonly McpTool[];
  input: Readable;
  output: Writable;
  /** The client finished its handshake: a moment to get ready for the first call. */
  onInitialized?: () => void;
}

type Id = string | number;
type Message = Record<string, unknown>;

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

/** The client's version when this server speaks it, else this server's newest (the spec's rule). */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === 'string' && MCP_PROTOCOL_VERSIONS.includes(requested)
    ? requested
    : (MCP_PROTOCOL_VERSIONS[0] ?? '2025-11-25');
}

/**
 * Serves until the input ends (the client exited or closed the pipe). Calls still running then
 * are aborted and awaited, so a tool can tidy up what it started.
 */
export async function serveMcp(options: McpServerOptions): Promise<void> {
  const inFlight = new Map<
    Id,
    { abort: AbortController; cancelled: boolean; done: Promise<void> }
  >();
  const send = (message: Message): void => {
    // A client that is gone cannot read the reply: nothing to do about it.
    options.output.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`, () => undefined);
  };
  const reply = (id: Id, result: unknown): void => send({ id, result });
  const fail = (id: Id | null, code: number, message: string): void =>
    send({ id, error: { code, message } });

  const call = (id: Id, params: Message): void => {
    const tool = options.tools.find((t) => t.name === params['name']);
    if (tool === undefined) {
      fail(id, INVALID_PARAMS, `unknown tool ${JSON.stringify(params['name'])}`);
      return;
    }
    const args = isRecord(params['arguments']) ? params['arguments'] : {};
    const abort = new AbortController();
    const entry = { abort, cancelled: false, done: Promise.resolve() };
    entry.done = tool
      .call(args, abort.signal)
      .then(
        (text) => ({ content: [{ type: 'text', text }] }),
        (err: unknown) => ({
          content: [{ type: 'text', text: err instanceof Error ? err.message : String(err) }],
          isError: true,
        }),
      )
      .then((result) => {
        inFlight.delete(id);
        // The spec: a cancelled request gets no response.
        if (!entry.cancelled) reply(id, result);
      });
    inFlight.set(id, entry);
  };

  const handle = (message: Message): void => {
    const method = message['method'];
    const id = message['id'];
    const params = isRecord(message['params']) ? message['params'] : {};
    if (typeof method !== 'string') return; // a response: this server sends no requests
    if (id === undefined || id === null) {
      if (method === 'notifications/initialized') options.onInitialized?.();
      if (method === 'notifications/cancelled') {
        const requestId = params['requestId'];
        const entry =
          typeof requestId === 'string' || typeof requestId === 'number'
            ? inFlight.get(requestId)
            : undefined;
        if (entry !== undefined) {
          entry.cancelled = true;
          entry.abort.abort();
        }
      }
      return;
    }
    if (typeof id !== 'string' && typeof id !== 'number') {
      fail(null, INVALID_REQUEST, 'the id must be a string or a number');
      return;
    }
    switch (method) {
      case 'initialize':
        reply(id, {
          protocolVersion: negotiateVersion(params['protocolVersion']),
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: options.name, version: options.version },
        });
        return;
      case 'ping':
        reply(id, {});
        return;
      case 'tools/list':
        reply(id, {
          tools: options.tools.map((t) => ({
            name: t.name,
            description: t.description,
            inputSchema: t.inputSchema,
          })),
        });
        return;
      case 'tools/call':
        call(id, params);
        return;
      default:
        fail(id, METHOD_NOT_FOUND, `method ${method} is not served here`);
    }
  };

  const lines = createInterface({ input: options.input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      fail(null, PARSE_ERROR, 'not JSON');
      continue;
    }
    if (!isRecord(message)) {
      fail(null, INVALID_REQUEST, 'expected one JSON-RPC message per line');
      continue;
    }
    handle(message);
  }
  const running = [...inFlight.values()];
  for (const { abort } of running) abort.abort();
  await Promise.all(running.map((r) => r.done));
}

function isRecord(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
