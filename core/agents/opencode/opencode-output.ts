/**
 * Reads `opencode run --format json`: one JSON event per line (`step_start`, `tool_use`,
 * `text`, `step_finish`, `error`), each carrying the session id — as `opencode run` prints them
 * and as the server driver (opencode-driver.ts) writes them from the server's events. Usage
 * arrives per step in `step_finish`; a refused permission shows as a tool part in error.
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
import { ZERO_USAGE, addUsage } from '../../usage.js';

/**
 * A refusal nobody was asked about, in opencode's words: `opencode run` rejected the call ("The
 * user rejected permission to use this specific tool call."), or a `deny` rule did ("The user has
 * specified a rule which prevents you from using this specific tool call…"). A refusal kugetsu
 * answered carries its message ("…with the following feedback: …"): the model was told why and
 * went on, so it is no question.
 */
const REFUSED =
  /rejected permission to use this specific tool call(?! with the following feedback)|rule which prevents you from using/i;

export function opencodeOutputParser(): AgentOutputParser {
  let sessionId: string | null = null;
  let usage: Usage | null = null;
  let finalText: string | null = null;
  const denials: string[] = [];
  let error: string | null = null;
  let fatal: FatalAgentError | null = null;

  return {
    line(text): LineReading {
      const marker = sessionIdFromMarker(text);
      if (marker !== null) {
        sessionId = marker;
        return { display: [] };
      }
      const event = jsonLine(text);
      if (event === null) return { display: text.trim() === '' ? [] : [text] };
      sessionId = str(event['sessionID']) ?? sessionId;
      const part = record(event['part']);
      switch (event['type']) {
        case 'text': {
          const said = str(part['text']) ?? '';
          if (said.trim() !== '') finalText = said.trim();
          return { display: said.trim() === '' ? [] : said.trim().split('\n') };
        }
        case 'tool_use': {
          const state = record(part['state']);
          const input = record(state['input']);
          const tool = str(part['tool']) ?? 'tool';
          const what = str(input['command']) ?? str(input['filePath']) ?? str(state['title']) ?? '';
          const head = tool === 'bash' ? `$ ${oneLine(what)}` : `${tool}: ${oneLine(what)}`;
          if (state['status'] === 'error') {
            const why = str(state['error']) ?? 'failed';
            if (REFUSED.test(why)) denials.push(`${tool} ${oneLine(what, 200)}`);
            return { display: [head, `  ! ${oneLine(why)}`] };
          }
          return { display: [head, ...outputLines(str(state['output']) ?? '')] };
        }
        case 'step_finish': {
          const tokens = record(part['tokens']);
          const cache = record(tokens['cache']);
          const step: Usage = {
            inputTokens: num(tokens['input']),
            outputTokens: num(tokens['output']) + num(tokens['reasoning']),
            cacheReadTokens: num(cache['read']),
            cacheWriteTokens: num(cache['write']),
            costUsd: typeof part['cost'] === 'number' ? part['cost'] : null,
          };
          usage = addUsage(usage ?? ZERO_USAGE, step);
          return { display: [], usage };
        }
        case 'error': {
          const err = record(event['error']);
          const data = record(err['data']);
          const message = str(data['message']) ?? str(err['name']) ?? 'unknown error';
          error = `opencode: ${oneLine(message, 300)}`;
          if (isAuthStatus(data['statusCode'])) {
            fatal = authFailure(
              'opencode',
              message,
              "check the provider's apiKey in the opencode config or `opencode auth login`",
            );
            return { display: [`error: ${oneLine(message)}`], fatal };
          }
          if (/cannot connect|unable to connect|ECONNREFUSED/i.test(message)) {
            const url = str(record(data['metadata'])['url']);
            fatal = unreachable(
              'opencode',
              url === null ? message : `${url}: ${message}`,
              "check the provider's baseURL in the opencode config and that the endpoint is up",
            );
            return { display: [`error: ${oneLine(message)}`], fatal };
          }
          return { display: [`error: ${oneLine(message)}`] };
        }
        default:
          return { display: [] };
      }
    },
    report(): AgentReport {
      return {
        sessionId,
        usage,
        finalText,
        question:
          denials.length === 0
            ? null
            : `opencode was refused permission for: ${denials.join('; ')}. Reply to say how to go on (or allow it in the opencode permission config).`,
        error,
        fatal,
        sessionTotals: null,
      };
    },
  };
}
