/**
 * JSON-RPC 2.0 over newline-delimited JSON, as `codex app-server` speaks it on stdio (the
 * `"jsonrpc": "2.0"` member is left out on the wire). One peer per connection: the ids of our
 * requests, the promises waiting on them, and the replies to requests the other side sends. It
 * touches no process: `write` sends one line, `receive` reads one.
 */

export type JsonRpcId = number | string;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** One line from the other side, as the peer understood it. */
export type JsonRpcIncoming =
  /** An answer to one of our requests (its promise is settled before this is returned). */
  | { kind: 'response'; id: JsonRpcId; result: unknown; error: JsonRpcErrorObject | null }
  /** The other side asks: exactly one `respond` or `respondError` must follow. */
  | { kind: 'request'; id: JsonRpcId; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown };

/** JSON-RPC's own codes (https://www.jsonrpc.org/specification#error_object). */
export const JSON_RPC_METHOD_NOT_FOUND = -32601;
export const JSON_RPC_INTERNAL_ERROR = -32603;

/** Our request was answered with an error, or the connection ended before its answer. */
export class JsonRpcRequestError extends Error {
  constructor(
    readonly method: string,
    readonly code: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'JsonRpcRequestError';
  }
}

export interface JsonRpcPeer {
  /** Sends a request; resolves with its `result`, rejects with a JsonRpcRequestError. */
  request(method: string, params?: unknown): Promise<unknown>;
  notify(method: string, params?: unknown): void;
  respond(id: JsonRpcId, result: unknown): void;
  respondError(id: JsonRpcId, code: number, message: string): void;
  /**
   * Reads one line. A response settles the request it answers; anything that is not a JSON-RPC
   * message (a log line, a partial line) yields null.
   */
  receive(line: string): JsonRpcIncoming | null;
  /** The connection is gone: every request still waiting is rejected with `reason`. */
  close(reason: string): void;
  /** Requests of ours still waiting for their answer. */
  readonly waiting: number;
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: JsonRpcRequestError) => void;
}

export function jsonRpcPeer(write: (line: string) => void): JsonRpcPeer {
  const pending = new Map<JsonRpcId, Pending>();
  let nextId = 1;
  let closed: string | null = null;
  const send = (message: Record<string, unknown>): void => write(`${JSON.stringify(message)}\n`);

  return {
    request(method, params) {
      if (closed !== null) return Promise.reject(new JsonRpcRequestError(method, null, closed));
      const id = nextId++;
      const answered = new Promise<unknown>((resolve, reject) => {
        pending.set(id, { method, resolve, reject });
      });
      send(params === undefined ? { id, method } : { id, method, params });
      return answered;
    },
    notify(method, params) {
      send(params === undefined ? { method } : { method, params });
    },
    respond(id, result) {
      send({ id, result });
    },
    respondError(id, code, message) {
      send({ id, error: { code, message } });
    },
    receive(line) {
      const message = parseObject(line);
      if (message === null) return null;
      const id = message['id'];
      const method = message['method'];
      const hasId = typeof id === 'number' || typeof id === 'string';
      if (typeof method === 'string') {
        return hasId
          ? { kind: 'request', id, method, params: message['params'] }
          : { kind: 'notification', method, params: message['params'] };
      }
      if (!hasId || !('result' in message || 'error' in message)) return null;
      const error = errorObject(message['error']);
      const waiting = pending.get(id);
      if (waiting !== undefined) {
        pending.delete(id);
        if (error === null) waiting.resolve(message['result']);
        else waiting.reject(new JsonRpcRequestError(waiting.method, error.code, error.message));
      }
      return { kind: 'response', id, result: message['result'], error };
    },
    close(reason) {
      closed ??= reason;
      for (const [id, waiting] of pending) {
        pending.delete(id);
        waiting.reject(new JsonRpcRequestError(waiting.method, null, reason));
      }
    },
    get waiting() {
      return pending.size;
    },
  };
}

function parseObject(line: string): Record<string, unknown> | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function errorObject(value: unknown): JsonRpcErrorObject | null {
  if (typeof value !== 'object' || value === null) return null;
  const error = value as Record<string, unknown>;
  return {
    code: typeof error['code'] === 'number' ? error['code'] : JSON_RPC_INTERNAL_ERROR,
    message: typeof error['message'] === 'string' ? error['message'] : 'error',
    data: error['data'],
  };
}
