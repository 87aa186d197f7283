/**
 * opencode's server events, read the way `opencode run --format json` reads them (opencode
 * 1.18's `run.ts`): the lines it would print, what the run must answer, and when it is over.
 * Pure; the driver does the talking.
 */
import { record, str } from '../agent-output.js';
import type { PermissionAsked, QuestionAsked } from './opencode-permissions.js';

export interface ServerEvent {
  type: string;
  properties: Record<string, unknown>;
}

/** A tool call: its tool's name and its input (a command's description is its reason). */
export interface ToolCall {
  tool: string;
  input: Record<string, unknown>;
}

/** What one event means for the run. */
export interface EventReading {
  /** JSON lines as `opencode run --format json` prints them. */
  lines: string[];
  permission?: PermissionAsked;
  question?: QuestionAsked;
  /** A request opencode no longer waits for (answered, or cancelled with a sibling). */
  settled?: string;
  /** The session went idle: the turn is over. */
  idle?: boolean;
}

/** The run's state: its session, the subagent sessions it started, its running tool calls. */
export class EventReader {
  private readonly sessions: Set<string>;
  /** Each tool call still running, by call id: what asks is one of them. */
  private readonly calls = new Map<string, ToolCall>();
  /** Every error the session reported, as `opencode run` collects them. */
  private readonly errors: string[] = [];

  constructor(
    readonly sessionID: string,
    private readonly now: () => number = Date.now,
  ) {
    this.sessions = new Set([sessionID]);
  }

  /** The errors the session reported, joined; null when there were none. */
  get error(): string | null {
    return this.errors.length === 0 ? null : this.errors.join('\n');
  }

  /** The running tool call a request comes from, when it was seen. */
  toolCall(callID: string | undefined): ToolCall | null {
    return callID === undefined ? null : (this.calls.get(callID) ?? null);
  }

  read(event: ServerEvent): EventReading {
    const props = event.properties;
    switch (event.type) {
      case 'session.created': {
        const info = record(props['info']);
        const parent = str(info['parentID']);
        const id = str(info['id']);
        if (parent !== null && id !== null && this.sessions.has(parent)) this.sessions.add(id);
        return { lines: [] };
      }
      case 'message.part.updated':
        return { lines: this.part(record(props['part'])) };
      case 'session.error': {
        if (str(props['sessionID']) !== this.sessionID) return { lines: [] };
        const error = record(props['error']);
        if (Object.keys(error).length === 0) return { lines: [] };
        const message = str(record(error['data'])['message']) ?? str(error['name']) ?? 'error';
        this.errors.push(message);
        return { lines: [this.line('error', { error })] };
      }
      case 'session.status': {
        const status = record(props['status']);
        const idle = str(props['sessionID']) === this.sessionID && status['type'] === 'idle';
        return idle ? { lines: [], idle: true } : { lines: [] };
      }
      case 'permission.asked': {
        const asked = props as unknown as PermissionAsked;
        if (!this.sessions.has(str(props['sessionID']) ?? '') || str(props['id']) === null)
          return { lines: [] };
        return {
          lines: [],
          permission: {
            ...asked,
            patterns: Array.isArray(asked.patterns) ? asked.patterns.map(String) : [],
            metadata: record(asked.metadata),
          },
        };
      }
      case 'question.asked': {
        if (!this.sessions.has(str(props['sessionID']) ?? '') || str(props['id']) === null)
          return { lines: [] };
        const questions = Array.isArray(props['questions']) ? props['questions'] : [];
        return {
          lines: [],
          question: {
            id: str(props['id']) ?? '',
            sessionID: str(props['sessionID']) ?? '',
            questions: questions
              .map((q) => record(q))
              .map((q) => ({
                question: str(q['question']) ?? '',
                header: str(q['header']) ?? undefined,
                options: (Array.isArray(q['options']) ? q['options'] : [])
                  .map((o) => str(record(o)['label']))
                  .filter((label): label is string => label !== null)
                  .map((label) => ({ label })),
              })),
          },
        };
      }
      case 'permission.replied':
      case 'question.replied':
      case 'question.rejected': {
        const id = str(props['requestID']);
        return id === null ? { lines: [] } : { lines: [], settled: id };
      }
      default:
        return { lines: [] };
    }
  }

  private part(part: Record<string, unknown>): string[] {
    if (str(part['sessionID']) !== this.sessionID) return [];
    switch (part['type']) {
      case 'tool': {
        const state = record(part['state']);
        const callID = str(part['callID']);
        if (state['status'] === 'running' && callID !== null) {
          this.calls.set(callID, {
            tool: str(part['tool']) ?? 'tool',
            input: record(state['input']),
          });
          return [];
        }
        if (state['status'] !== 'completed' && state['status'] !== 'error') return [];
        if (callID !== null) this.calls.delete(callID);
        return [this.line('tool_use', { part })];
      }
      case 'step-start':
        return [this.line('step_start', { part })];
      case 'step-finish':
        return [this.line('step_finish', { part })];
      case 'text':
        return record(part['time'])['end'] === undefined ? [] : [this.line('text', { part })];
      default:
        return [];
    }
  }

  private line(type: string, data: Record<string, unknown>): string {
    return JSON.stringify({ type, timestamp: this.now(), sessionID: this.sessionID, ...data });
  }
}

/** The address `opencode serve` says it listens on, from its start-up line. */
export function listeningUrl(line: string): string | null {
  const match = /listening on (https?:\/\/[^\s/]+)/.exec(line);
  return match?.[1] ?? null;
}

/**
 * Reads a `text/event-stream` body chunk by chunk: the `data:` payload of every complete event.
 * opencode sends one JSON object per event.
 */
export class EventStreamParser {
  private buffer = '';

  push(chunk: string): string[] {
    // A raw CR never occurs inside opencode's JSON payloads: dropping them reads CRLF framing too.
    this.buffer += chunk.replace(/\r/g, '');
    const out: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
        .join('\n');
      if (data !== '') out.push(data);
    }
    return out;
  }
}

/** A payload of the stream as an event; null for anything else. */
export function serverEvent(data: string): ServerEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  const event = record(value);
  const type = str(event['type']);
  return type === null ? null : { type, properties: record(event['properties']) };
}
