/**
 * Reads what `codex app-server` writes on stdout (JSON-RPC, one message a line): the response
 * that opened the thread (its id is the session), `item/completed` (messages, commands, file
 * changes, searches), `thread/tokenUsage/updated`, `turn/completed`, `error` and warnings, and
 * error responses (a thread codex has no record of). Requests codex sends are the driver's.
 */
import {
  authFailure,
  isAuthStatus,
  jsonLine,
  num,
  oneLine,
  outputLines,
  record,
  sessionIdFromMarker,
  str,
  type AgentOutputParser,
  type AgentReport,
  type FatalAgentError,
  type LineReading,
  unreachable,
} from '../agent-output.js';
import type { Usage } from '../../domain.js';
import { ZERO_USAGE, addUsage, subtractUsage } from '../../usage.js';
import { unwrapShell } from './codex-shell.js';

const AUTH = /\b(401|403)\b|unauthori[sz]ed|invalid api key/i;
const LOST = /no rollout found for (?:thread|conversation) id (\S+)/i;
/** Output kept per running command for the transcript; the transcript shows its first lines. */
const MAX_OUTPUT = 16 * 1024;

/**
 * codex reports each thread's running total, including what a resumed or forked thread used
 * before; this run's usage is the session thread's total minus `before`, plus whatever threads
 * it spawned (sub-agents) used.
 */
export function codexOutputParser(before: Usage | null): AgentOutputParser {
  let sessionId: string | null = null;
  let mainThread: string | null = null;
  const totals = new Map<string, Usage>();
  const outputs = new Map<string, string>();
  let finalText: string | null = null;
  let error: string | null = null;
  let fatal: FatalAgentError | null = null;

  const runUsage = (): Usage => {
    let usage = ZERO_USAGE;
    for (const [thread, total] of totals) {
      usage = addUsage(
        usage,
        thread === mainThread ? subtractUsage(total, before ?? ZERO_USAGE) : total,
      );
    }
    return usage;
  };

  /** An error the run ends with: it becomes the run's error, and maybe a fatal one. */
  const failed = (message: string, status: number | null): LineReading => {
    error = `codex: ${oneLine(message, 300)}`;
    const diagnosed = diagnose(message, status);
    if (diagnosed !== null) fatal = diagnosed;
    const display = [`error: ${oneLine(message)}`];
    return diagnosed === null ? { display } : { display, fatal: diagnosed };
  };

  const lost = (message: string): LineReading | null => {
    const found = LOST.exec(message);
    if (found === null) return null;
    fatal = {
      kind: 'session_lost',
      sessionId: found[1] ?? '',
      message: `codex has no record of session ${found[1] ?? ''}`,
    };
    return { display: [`error: ${oneLine(message)}`], fatal };
  };

  const completed = (item: Record<string, unknown>, thread: unknown): LineReading => {
    switch (item['type']) {
      case 'agentMessage': {
        const said = (str(item['text']) ?? '').trim();
        if (said !== '' && (mainThread === null || thread === mainThread)) finalText = said;
        return { display: said === '' ? [] : said.split('\n') };
      }
      case 'commandExecution': {
        const id = str(item['id']) ?? '';
        const streamed = outputs.get(id) ?? '';
        outputs.delete(id);
        const lines = [`$ ${oneLine(unwrapShell(str(item['command']) ?? ''))}`];
        lines.push(...outputLines(str(item['aggregatedOutput']) ?? streamed));
        const code = item['exitCode'];
        if (item['status'] === 'declined') lines.push('  (declined)');
        else if (typeof code === 'number' && code !== 0) lines.push(`  (exit ${code})`);
        return { display: lines };
      }
      case 'fileChange': {
        const changes = Array.isArray(item['changes']) ? item['changes'] : [];
        const declined = item['status'] === 'declined' ? ' (declined)' : '';
        return {
          display: changes.map((c) => {
            const change = record(c);
            const kind = str(record(change['kind'])['type']) ?? 'change';
            return `${kind}: ${str(change['path']) ?? ''}${declined}`;
          }),
        };
      }
      case 'webSearch':
        return { display: [`web search: ${oneLine(str(item['query']) ?? '')}`] };
      case 'mcpToolCall':
        return { display: [`mcp ${str(item['server']) ?? ''}.${str(item['tool']) ?? ''}`] };
      default:
        return { display: [] };
    }
  };

  return {
    line(text): LineReading {
      const marker = sessionIdFromMarker(text);
      if (marker !== null) {
        sessionId = marker;
        return { display: [] };
      }
      const message = jsonLine(text);
      if (message === null) return { display: text.trim() === '' ? [] : [text] };
      const method = str(message['method']);
      if (method === null) {
        // A response to the driver: the thread it opened, or why it could not.
        const failure = record(message['error']);
        if ('error' in message) {
          const said = str(failure['message']) ?? 'error';
          return lost(said) ?? failed(said, null);
        }
        const thread = str(record(record(message['result'])['thread'])['id']);
        if (thread !== null && mainThread === null) {
          mainThread = thread;
          sessionId = thread;
        }
        return { display: [] };
      }
      // A request is the driver's to answer; what came of it shows in the items.
      if ('id' in message) return { display: [] };
      const params = record(message['params']);
      switch (method) {
        case 'item/commandExecution/outputDelta': {
          const id = str(params['itemId']) ?? '';
          const sofar = outputs.get(id) ?? '';
          if (sofar.length < MAX_OUTPUT) outputs.set(id, sofar + (str(params['delta']) ?? ''));
          return { display: [] };
        }
        case 'item/completed':
          return completed(record(params['item']), params['threadId']);
        case 'thread/tokenUsage/updated': {
          const total = record(record(params['tokenUsage'])['total']);
          const cached = num(total['cachedInputTokens']);
          totals.set(str(params['threadId']) ?? '', {
            // codex counts cached tokens inside inputTokens.
            inputTokens: Math.max(0, num(total['inputTokens']) - cached),
            outputTokens: num(total['outputTokens']),
            cacheReadTokens: cached,
            cacheWriteTokens: num(total['cacheWriteInputTokens']),
            costUsd: null,
          });
          return { display: [], usage: runUsage() };
        }
        case 'error': {
          const turnError = record(params['error']);
          const said = [str(turnError['message']), str(turnError['additionalDetails'])]
            .filter((s): s is string => s !== null && s !== '')
            .join(': ');
          if (mainThread !== null && params['threadId'] !== mainThread) {
            // A sub-agent's trouble is its own: the session's turn says how the run went.
            return { display: [`error (sub-agent): ${oneLine(said)}`] };
          }
          const status = httpStatus(turnError);
          if (params['willRetry'] === true && diagnose(said, status) === null) {
            // codex tries again by itself: not this run's error unless the turn fails.
            return { display: [`codex retries: ${oneLine(said)}`] };
          }
          return failed(said === '' ? 'error' : said, status);
        }
        case 'turn/completed': {
          if (mainThread !== null && params['threadId'] !== mainThread) return { display: [] };
          const turn = record(params['turn']);
          if (turn['status'] === 'failed') {
            const turnError = record(turn['error']);
            if (error !== null) return { display: [] };
            return failed(str(turnError['message']) ?? 'turn failed', httpStatus(turnError));
          }
          if (turn['status'] === 'interrupted') error = 'codex: the turn was interrupted';
          return { display: [] };
        }
        // `configWarning` is left out: app-server logs the same on stderr, which is shown.
        case 'warning':
        case 'deprecationNotice': {
          // Warnings such as a model missing from codex's metadata: shown, not fatal.
          const said = str(params['message']) ?? str(params['summary']) ?? '';
          return { display: said === '' ? [] : [`warning: ${oneLine(said)}`] };
        }
        default:
          return { display: [] };
      }
    },
    stderr(text) {
      const found = LOST.exec(text);
      if (found === null) return null;
      fatal = {
        kind: 'session_lost',
        sessionId: found[1] ?? '',
        message: `codex has no record of session ${found[1] ?? ''}`,
      };
      return fatal;
    },
    report(): AgentReport {
      return {
        sessionId,
        usage: totals.size === 0 ? null : runUsage(),
        finalText,
        question: null,
        error,
        fatal,
        sessionTotals: mainThread === null ? null : (totals.get(mainThread) ?? null),
      };
    },
  };
}

/** What no retry can help: codex would go on waiting (the network) or failing (a key). */
function diagnose(message: string, status: number | null): FatalAgentError | null {
  if (/waiting for network|connection failed|error sending request/i.test(message)) {
    // codex would wait for the network for as long as the task timeout allows.
    return unreachable(
      'codex',
      message,
      "check the provider's base_url in CODEX_HOME/config.toml and that the endpoint is up",
    );
  }
  const missing = /Missing environment variable: `?([A-Za-z_][A-Za-z0-9_]*)`?/.exec(message);
  if (missing !== null) {
    return {
      kind: 'config',
      message: `codex: ${missing[1]} is not set: \`kugetsu env set ${missing[1]} - codex\``,
    };
  }
  if (isAuthStatus(status) || AUTH.test(message)) {
    return authFailure(
      'codex',
      message,
      "check the provider's env_key variable (or `codex login`) in the codex env file",
    );
  }
  return null;
}

/** The HTTP status codex forwards in `codexErrorInfo`, when it has one. */
function httpStatus(turnError: Record<string, unknown>): number | null {
  const info = record(turnError['codexErrorInfo']);
  for (const variant of Object.values(info)) {
    const status = record(variant)['httpStatusCode'];
    if (typeof status === 'number') return status;
  }
  return turnError['codexErrorInfo'] === 'unauthorized' ? 401 : null;
}
