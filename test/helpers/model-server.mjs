// @ts-check
/**
 * A scripted model server for offline runs of the real agent CLIs. It speaks, streaming, the
 * three wire protocols they use:
 *   - OpenAI chat completions  (`POST /v1/chat/completions`, SSE `data:` chunks)  — opencode
 *   - Anthropic messages       (`POST /v1/messages`, named SSE events)            — claude
 *   - OpenAI responses         (`POST /v1/responses`, named SSE events)           — codex
 *
 * A test registers a script under a name and puts `[[name]]` in its prompt. The server is
 * stateless about conversations: the step it plays is the number of assistant turns since the
 * last real user message, so `continue` (a new user message with a new marker) starts that
 * script from its first step, and one server serves any number of agents at once.
 *
 * Plain ESM with node: builtins only, so the benchmarks can use it too.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

/**
 * @typedef {{ shell: string } | { answer: string } | { hang: true } | { fail: number, message?: string }
 *   | { tool: string, input: Record<string, unknown> }} Step
 * @typedef {'chat' | 'anthropic' | 'responses'} Protocol
 * @typedef {{ input: number, output: number, cacheRead: number, cacheWrite: number }} Usage
 * @typedef {{ protocol: Protocol, path: string, body: any, script: string | null, step: number,
 *   headers: Record<string, string | string[] | undefined>, at: number }} RecordedRequest
 */

/** Tools that run a shell command, by the names each agent gives them. */
const SHELL_TOOLS = ['bash', 'Bash', 'exec_command', 'shell'];
const MARKER = /\[\[([A-Za-z0-9_-]+)\]\]/g;

export class ModelServer {
  /** @type {import('node:http').Server} */
  #server;
  /** @type {Map<string, Step[]>} */
  #scripts = new Map();
  /** @type {Set<import('node:http').ServerResponse>} */
  #hanging = new Set();
  #idPrefix = randomBytes(6).toString('hex');
  #nextId = 1;
  /** @type {RecordedRequest[]} */
  requests = [];
  /** @type {Usage} */
  usage = { input: 1200, output: 80, cacheRead: 300, cacheWrite: 0 };
  url = '';

  /** @param {import('node:http').Server} server */
  constructor(server) {
    this.#server = server;
  }

  /** @returns {Promise<ModelServer>} */
  static async start() {
    const server = createServer();
    const model = new ModelServer(server);
    server.on('request', (req, res) => model.#handle(req, res));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    const address = /** @type {import('node:net').AddressInfo} */ (server.address());
    model.url = `http://127.0.0.1:${address.port}`;
    return model;
  }

  /**
   * @param {string} name
   * @param {Step[]} steps
   */
  script(name, steps) {
    this.#scripts.set(name, steps);
  }

  /** Requests that played a step of the named script. */
  /** @param {string} name */
  requestsFor(name) {
    return this.requests.filter((r) => r.script === name);
  }

  /** Ends every response held open by a `hang` step. */
  releaseHanging() {
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
  }

  async close() {
    this.releaseHanging();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(() => resolve(undefined)));
  }

  #id(/** @type {string} */ kind) {
    return `${kind}_${this.#idPrefix}${String(this.#nextId++).padStart(6, '0')}`;
  }

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  async #handle(req, res) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'POST') {
      // claude probes the base URL before its first request.
      res.writeHead(path === '/' || path === '/v1/models' ? 200 : 404, {
        'content-type': 'application/json',
      });
      res.end(path === '/v1/models' ? JSON.stringify({ object: 'list', data: [] }) : '{}');
      return;
    }
    /** @type {any} */
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end('bad json');
      return;
    }
    /** @type {Protocol | null} */
    const protocol = path.endsWith('/chat/completions')
      ? 'chat'
      : path.endsWith('/messages')
        ? 'anthropic'
        : path.endsWith('/responses')
          ? 'responses'
          : null;
    if (protocol === null) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${path}` } }));
      return;
    }
    const turn = conversationTurn(protocol, body);
    const tools = toolNames(protocol, body);
    const steps = turn.script === null ? undefined : this.#scripts.get(turn.script);
    /** @type {Step} */
    let step;
    if (tools.length === 0) step = { answer: 'Scripted session' };
    else if (steps === undefined) step = { answer: 'OK' };
    else step = steps[Math.min(turn.step, steps.length - 1)] ?? { answer: 'OK' };
    this.requests.push({
      protocol,
      path,
      body,
      script: tools.length === 0 ? null : turn.script,
      step: turn.step,
      headers: req.headers,
      at: Date.now(),
    });
    if ('hang' in step) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      this.#hanging.add(res);
      res.on('close', () => this.#hanging.delete(res));
      return;
    }
    if ('fail' in step) {
      res.writeHead(step.fail, { 'content-type': 'application/json' });
      res.end(errorBody(protocol, step.fail, step.message ?? 'scripted failure'));
      return;
    }
    /** @type {{ name: string, input: Record<string, unknown> } | null} */
    let call = null;
    if ('shell' in step) {
      const name = SHELL_TOOLS.find((t) => tools.includes(t)) ?? tools[0] ?? 'bash';
      call = { name, input: shellInput(name, step.shell) };
    } else if ('tool' in step) {
      call = { name: step.tool, input: step.input };
    }
    const text = 'answer' in step ? step.answer : '';
    const stream = body.stream !== false;
    if (protocol === 'chat') this.#chat(res, body, text, call, stream);
    else if (protocol === 'anthropic') this.#anthropic(res, body, text, call, stream);
    else this.#responses(res, body, text, call);
  }

  /**
   * @param {import('node:http').ServerResponse} res
   * @param {any} body
   * @param {string} text
   * @param {{ name: string, input: Record<string, unknown> } | null} call
   * @param {boolean} stream
   */
  #chat(res, body, text, call, stream) {
    const id = this.#id('chatcmpl');
    const base = { id, object: 'chat.completion.chunk', created: now(), model: body.model };
    const u = this.usage;
    const usage = {
      prompt_tokens: u.input + u.cacheRead,
      completion_tokens: u.output,
      total_tokens: u.input + u.cacheRead + u.output,
      prompt_tokens_details: { cached_tokens: u.cacheRead },
    };
    const toolCall = call && {
      id: this.#id('call'),
      type: 'function',
      function: { name: call.name, arguments: JSON.stringify(call.input) },
    };
    if (!stream) {
      json(res, {
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: call ? null : text,
              tool_calls: toolCall ? [toolCall] : undefined,
            },
            finish_reason: call ? 'tool_calls' : 'stop',
          },
        ],
        usage,
      });
      return;
    }
    sse(res);
    const send = (/** @type {object} */ data) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    send({
      ...base,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    if (toolCall) {
      send({
        ...base,
        choices: [
          { index: 0, delta: { tool_calls: [{ index: 0, ...toolCall }] }, finish_reason: null },
        ],
      });
    } else {
      for (const piece of pieces(text)) {
        send({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
      }
    }
    send({
      ...base,
      choices: [{ index: 0, delta: {}, finish_reason: call ? 'tool_calls' : 'stop' }],
    });
    send({ ...base, choices: [], usage });
    res.end('data: [DONE]\n\n');
  }

  /**
   * @param {import('node:http').ServerResponse} res
   * @param {any} body
   * @param {string} text
   * @param {{ name: string, input: Record<string, unknown> } | null} call
   * @param {boolean} stream
   */
  #anthropic(res, body, text, call, stream) {
    const id = this.#id('msg');
    const u = this.usage;
    const usage = {
      input_tokens: u.input,
      output_tokens: u.output,
      cache_read_input_tokens: u.cacheRead,
      cache_creation_input_tokens: u.cacheWrite,
    };
    const block = call
      ? { type: 'tool_use', id: this.#id('toolu'), name: call.name, input: call.input }
      : { type: 'text', text };
    const stopReason = call ? 'tool_use' : 'end_turn';
    const message = {
      id,
      type: 'message',
      role: 'assistant',
      model: body.model,
      stop_sequence: null,
    };
    if (!stream) {
      json(res, { ...message, content: [block], stop_reason: stopReason, usage });
      return;
    }
    sse(res);
    const send = (/** @type {string} */ event, /** @type {object} */ data) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    send('message_start', {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    if (call) {
      send('content_block_start', { index: 0, content_block: { ...block, input: {} } });
      send('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(call.input) },
      });
    } else {
      send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      for (const piece of pieces(text)) {
        send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
      }
    }
    send('content_block_stop', { index: 0 });
    send('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: u.output },
    });
    send('message_stop', {});
    res.end();
  }

  /**
   * @param {import('node:http').ServerResponse} res
   * @param {any} body
   * @param {string} text
   * @param {{ name: string, input: Record<string, unknown> } | null} call
   */
  #responses(res, body, text, call) {
    const u = this.usage;
    const response = {
      id: this.#id('resp'),
      object: 'response',
      created_at: now(),
      model: body.model,
      status: 'in_progress',
      output: /** @type {object[]} */ ([]),
    };
    const usage = {
      input_tokens: u.input + u.cacheRead,
      input_tokens_details: { cached_tokens: u.cacheRead },
      output_tokens: u.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: u.input + u.cacheRead + u.output,
    };
    sse(res);
    let sequence = 0;
    const send = (/** @type {string} */ event, /** @type {object} */ data) =>
      res.write(
        `event: ${event}\ndata: ${JSON.stringify({ type: event, sequence_number: sequence++, ...data })}\n\n`,
      );
    send('response.created', { response });
    /** @type {object} */
    let item;
    if (call) {
      const itemId = this.#id('fc');
      const args = JSON.stringify(call.input);
      item = {
        type: 'function_call',
        id: itemId,
        call_id: this.#id('call'),
        name: call.name,
        arguments: args,
        status: 'completed',
      };
      send('response.output_item.added', {
        output_index: 0,
        item: { ...item, arguments: '', status: 'in_progress' },
      });
      send('response.function_call_arguments.delta', {
        item_id: itemId,
        output_index: 0,
        delta: args,
      });
      send('response.function_call_arguments.done', {
        item_id: itemId,
        output_index: 0,
        arguments: args,
      });
    } else {
      const itemId = this.#id('msg');
      item = {
        type: 'message',
        id: itemId,
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text, annotations: [] }],
      };
      send('response.output_item.added', {
        output_index: 0,
        item: {
          type: 'message',
          id: itemId,
          role: 'assistant',
          status: 'in_progress',
          content: [],
        },
      });
      for (const piece of pieces(text)) {
        send('response.output_text.delta', {
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          delta: piece,
        });
      }
    }
    send('response.output_item.done', { output_index: 0, item });
    send('response.completed', {
      response: { ...response, status: 'completed', output: [item], usage },
    });
    res.end();
  }
}

/**
 * Which script a request belongs to and which of its steps to play.
 * @param {Protocol} protocol
 * @param {any} body
 * @returns {{ script: string | null, step: number }}
 */
export function conversationTurn(protocol, body) {
  /** @type {{ role: string, text: string, isPrompt: boolean, assistantTurn: boolean }[]} */
  const entries = [];
  if (protocol === 'responses') {
    for (const item of body.input ?? []) {
      const type = item.type ?? 'message';
      if (type === 'message') {
        const isUser = item.role === 'user';
        entries.push({
          role: item.role,
          text: textOf(item.content),
          isPrompt: isUser,
          assistantTurn: item.role === 'assistant',
        });
      } else if (type === 'function_call') {
        entries.push({ role: 'assistant', text: '', isPrompt: false, assistantTurn: true });
      }
    }
  } else {
    for (const message of body.messages ?? []) {
      const content = message.content;
      const toolResult =
        Array.isArray(content) && content.some((/** @type {any} */ b) => b?.type === 'tool_result');
      entries.push({
        role: message.role,
        text: textOf(content),
        isPrompt: message.role === 'user' && !toolResult,
        assistantTurn: message.role === 'assistant',
      });
    }
  }
  // The newest prompt that names a script decides; prompts without a marker (environment
  // context, reminders) that follow it do not reset the count.
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = /** @type {(typeof entries)[number]} */ (entries[i]);
    if (!entry.isPrompt) continue;
    const names = [...entry.text.matchAll(MARKER)].map((m) => m[1]);
    if (names.length === 0) continue;
    const step = entries.slice(i + 1).filter((e) => e.assistantTurn).length;
    return { script: names[names.length - 1] ?? null, step };
  }
  return { script: null, step: 0 };
}

/**
 * @param {Protocol} protocol
 * @param {any} body
 * @returns {string[]}
 */
function toolNames(protocol, body) {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  return tools
    .map((/** @type {any} */ t) => (protocol === 'chat' ? t.function?.name : t.name))
    .filter((/** @type {unknown} */ n) => typeof n === 'string');
}

/**
 * @param {string} tool
 * @param {string} command
 */
function shellInput(tool, command) {
  if (tool === 'exec_command') return { cmd: command };
  if (tool === 'shell') return { command: ['bash', '-lc', command] };
  return { command, description: 'Run a command' };
}

/** @param {unknown} content */
function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b) => (typeof b === 'string' ? b : typeof b?.text === 'string' ? b.text : ''))
    .join('\n');
}

/**
 * @param {Protocol} protocol
 * @param {number} status
 * @param {string} message
 */
function errorBody(protocol, status, message) {
  if (protocol === 'anthropic') {
    const type = status === 401 ? 'authentication_error' : 'api_error';
    return JSON.stringify({ type: 'error', error: { type, message } });
  }
  return JSON.stringify({
    error: {
      message,
      type: status === 401 ? 'invalid_request_error' : 'server_error',
      code: status === 401 ? 'invalid_api_key' : null,
    },
  });
}

/** @param {string} text */
function pieces(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 16) out.push(text.slice(i, i + 16));
  return out.length === 0 ? [''] : out;
}

/** @param {import('node:http').ServerResponse} res */
function sse(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {object} data
 */
function json(res, data) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(data));
}

function now() {
  return Math.floor(Date.now() / 1000);
}
