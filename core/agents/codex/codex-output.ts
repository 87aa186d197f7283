/**
 * Reads `codex exec --json`: `thread.started` (the session id), `item.started`/`item.completed`
 * (messages, commands, file changes, warnings), `turn.completed` with the usage, and
 * `turn.failed`/`error`.
 */
import {
  authFailure,
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
import { ZERO_USAGE, subtractUsage } from '../../usage.js';

const AUTH = /\b(401|403)\b|unauthori[sz]ed|invalid api key/i;

/**
 * codex reports the thread's running total in `turn.completed`, including what a resumed or
 * forked thread used before; this run's usage is that total minus `before`.
 */
export function codexOutputParser(before: Usage | null): AgentOutputParser {
  let sessionId: string | null = null;
  let usage: Usage | null = null;
  let totals: Usage | null = null;
  let finalText: string | null = null;
  let error: string | null = null;
  let fatal: FatalAgentError | null = null;

  const failed = (message: string): LineReading => {
    error = `codex: ${oneLine(message, 300)}`;
    if (/waiting for network|connection failed|error sending request/i.test(message)) {
      // codex would wait for the network for as long as the task timeout allows.
      fatal = unreachable(
        'codex',
        message,
        "check the provider's base_url in CODEX_HOME/config.toml and that the endpoint is up",
      );
      return { display: [`error: ${oneLine(message)}`], fatal };
    }
    const missing = /Missing environment variable: `?([A-Za-z_][A-Za-z0-9_]*)`?/.exec(message);
    if (missing !== null) {
      fatal = {
        kind: 'config',
        message: `codex: ${missing[1]} is not set: \`kugetsu env set ${missing[1]} - codex\``,
      };
      return { display: [`error: ${oneLine(message)}`], fatal };
    }
    if (AUTH.test(message)) {
      fatal = authFailure(
        'codex',
        message,
        "check the provider's env_key variable (or `codex login`) in the codex env file",
      );
      return { display: [`error: ${oneLine(message)}`], fatal };
    }
    return { display: [`error: ${oneLine(message)}`] };
  };

  return {
    line(text): LineReading {
      const marker = sessionIdFromMarker(text);
      if (marker !== null) {
        sessionId = marker;
        return { display: [] };
      }
      const event = jsonLine(text);
      if (event === null) return { display: text.trim() === '' ? [] : [text] };
      switch (event['type']) {
        case 'thread.started':
          sessionId = str(event['thread_id']) ?? sessionId;
          return { display: [] };
        case 'item.completed': {
          const item = record(event['item']);
          switch (item['type']) {
            case 'agent_message': {
              const said = (str(item['text']) ?? '').trim();
              if (said !== '') finalText = said;
              return { display: said === '' ? [] : said.split('\n') };
            }
            case 'command_execution': {
              const lines = [`$ ${oneLine(str(item['command']) ?? '')}`];
              lines.push(...outputLines(str(item['aggregated_output']) ?? ''));
              const code = item['exit_code'];
              if (typeof code === 'number' && code !== 0) lines.push(`  (exit ${code})`);
              return { display: lines };
            }
            case 'file_change': {
              const changes = Array.isArray(item['changes']) ? item['changes'] : [];
              return {
                display: changes.map((c) => {
                  const change = record(c);
                  return `${str(change['kind']) ?? 'change'}: ${str(change['path']) ?? ''}`;
                }),
              };
            }
            case 'error':
              // Warnings such as a model missing from codex's metadata: shown, not fatal.
              return { display: [`warning: ${oneLine(str(item['message']) ?? '')}`] };
            default:
              return { display: [] };
          }
        }
        case 'turn.completed': {
          const u = record(event['usage']);
          const cached = num(u['cached_input_tokens']);
          totals = {
            // codex counts cached tokens inside input_tokens.
            inputTokens: Math.max(0, num(u['input_tokens']) - cached),
            outputTokens: num(u['output_tokens']),
            cacheReadTokens: cached,
            cacheWriteTokens: num(u['cache_write_input_tokens']),
            costUsd: null,
          };
          usage = subtractUsage(totals, before ?? ZERO_USAGE);
          return { display: [], usage };
        }
        case 'turn.failed':
          return failed(str(record(event['error'])['message']) ?? 'turn failed');
        case 'error':
          return failed(str(event['message']) ?? 'error');
        default:
          return { display: [] };
      }
    },
    stderr(text) {
      const lost = /no rollout found for thread id (\S+)/.exec(text);
      if (lost === null) return null;
      fatal = {
        kind: 'session_lost',
        sessionId: lost[1] ?? '',
        message: `codex has no record of session ${lost[1] ?? ''}`,
      };
      return fatal;
    },
    report(): AgentReport {
      return { sessionId, usage, finalText, question: null, error, fatal, sessionTotals: totals };
    },
  };
}
