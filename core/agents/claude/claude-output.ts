/**
 * Reads `claude -p --output-format stream-json --verbose`: `system` (init with the session id
 * and the MCP servers, `api_retry`), `assistant` and `user` messages, and a final `result` with
 * the usage, the cost and the permissions claude refused.
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
import { PERMISSION_SERVER_NAME } from './claude-policy.js';

const UNREACHABLE_AFTER = 3;

function usageOf(value: unknown, costUsd: number | null): Usage {
  const u = record(value);
  return {
    inputTokens: num(u['input_tokens']),
    outputTokens: num(u['output_tokens']),
    cacheReadTokens: num(u['cache_read_input_tokens']),
    cacheWriteTokens: num(u['cache_creation_input_tokens']),
    costUsd,
  };
}

function toolHead(name: string, input: Record<string, unknown>): string {
  const what =
    str(input['command']) ??
    str(input['file_path']) ??
    str(input['path']) ??
    str(input['pattern']) ??
    str(input['description']) ??
    '';
  return name === 'Bash' ? `$ ${oneLine(what)}` : `${name}: ${oneLine(what)}`;
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((c) => str(record(c)['text']) ?? '').join('\n');
}

export function claudeOutputParser(): AgentOutputParser {
  let sessionId: string | null = null;
  // claude repeats an assistant message's usage on every content block it streams.
  const perMessage = new Map<string, Usage>();
  let finalUsage: Usage | null = null;
  let finalText: string | null = null;
  let question: string | null = null;
  let error: string | null = null;
  let fatal: FatalAgentError | null = null;
  // Whether claude's permission prompts go to kugetsu's MCP tool: then every refusal was an
  // answer (a person's, the policy's, the timeout's) that the agent was told, not a question.
  let asksKugetsu = false;

  const liveUsage = (): Usage => {
    let total = ZERO_USAGE;
    for (const u of perMessage.values()) total = addUsage(total, u);
    return total;
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
      sessionId = str(event['session_id']) ?? sessionId;
      switch (event['type']) {
        case 'system': {
          if (event['subtype'] === 'init') {
            const servers = Array.isArray(event['mcp_servers']) ? event['mcp_servers'] : [];
            asksKugetsu = servers.some((s) => {
              const server = record(s);
              return server['name'] === PERMISSION_SERVER_NAME && server['status'] === 'connected';
            });
          }
          if (event['subtype'] !== 'api_retry') return { display: [] };
          const why = str(event['error']) ?? 'error';
          if (isAuthStatus(event['error_status'])) {
            fatal = authFailure(
              'claude',
              `${String(event['error_status'])} ${why}`,
              'check ANTHROPIC_API_KEY (or `claude login`) in the claude env file',
            );
            return { display: [`error: ${why}`], fatal };
          }
          // No HTTP status: the request never got an answer. claude would go on for ten
          // attempts over several minutes; three tell enough.
          if (event['error_status'] === null && num(event['attempt']) >= UNREACHABLE_AFTER) {
            fatal = unreachable(
              'claude',
              `no answer after ${num(event['attempt'])} attempts`,
              'check ANTHROPIC_BASE_URL and that the endpoint is up',
            );
            return { display: [`error: ${fatal.message}`], fatal };
          }
          return {
            display: [
              `model request failed (${why}); claude retries (attempt ${num(event['attempt'])})`,
            ],
          };
        }
        case 'assistant': {
          const message = record(event['message']);
          const display: string[] = [];
          for (const block of Array.isArray(message['content']) ? message['content'] : []) {
            const b = record(block);
            if (b['type'] === 'text') {
              const said = (str(b['text']) ?? '').trim();
              if (said !== '') {
                finalText = said;
                display.push(...said.split('\n'));
              }
            } else if (b['type'] === 'tool_use') {
              display.push(toolHead(str(b['name']) ?? 'tool', record(b['input'])));
            }
          }
          const id = str(message['id']);
          if (id === null || message['usage'] === undefined) return { display };
          perMessage.set(id, usageOf(message['usage'], null));
          return { display, usage: liveUsage() };
        }
        case 'user': {
          const message = record(event['message']);
          const display: string[] = [];
          for (const block of Array.isArray(message['content']) ? message['content'] : []) {
            const b = record(block);
            if (b['type'] !== 'tool_result') continue;
            const out = resultText(b['content']);
            display.push(...(b['is_error'] === true ? [`  ! ${oneLine(out)}`] : outputLines(out)));
          }
          return { display };
        }
        case 'result': {
          const cost = typeof event['total_cost_usd'] === 'number' ? event['total_cost_usd'] : null;
          finalUsage = usageOf(event['usage'], cost);
          const said = str(event['result']);
          if (said !== null && said.trim() !== '') finalText = said.trim();
          if (event['is_error'] === true) {
            error = `claude: ${oneLine(said ?? str(event['subtype']) ?? 'error', 300)}`;
            if (said !== null && /not logged in/i.test(said)) {
              fatal = {
                kind: 'config',
                message:
                  'claude: not logged in: set ANTHROPIC_API_KEY with `kugetsu env set ANTHROPIC_API_KEY - claude`, or run `claude login`',
              };
            }
          }
          const denials = Array.isArray(event['permission_denials'])
            ? event['permission_denials']
            : [];
          if (denials.length > 0 && !asksKugetsu) {
            const asked = denials.map((d) => {
              const denial = record(d);
              return toolHead(str(denial['tool_name']) ?? 'tool', record(denial['tool_input']));
            });
            question = `claude was refused permission for: ${asked.join('; ')}. Reply to say how to go on (or allow it with KUGETSU_CLAUDE_ALLOWED_TOOLS).`;
          }
          return { display: [], usage: finalUsage };
        }
        default:
          return { display: [] };
      }
    },
    stderr(text) {
      const lost = /No conversation found with session ID: (\S+)/.exec(text);
      if (lost === null) return null;
      fatal = {
        kind: 'session_lost',
        sessionId: lost[1] ?? '',
        message: `claude has no record of session ${lost[1] ?? ''}`,
      };
      return fatal;
    },
    report(): AgentReport {
      return {
        sessionId,
        usage: finalUsage ?? (perMessage.size > 0 ? liveUsage() : null),
        finalText,
        question,
        error,
        fatal,
        sessionTotals: null,
      };
    },
  };
}
