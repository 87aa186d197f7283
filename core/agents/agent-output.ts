/**
 * What kugetsu learns from an agent's output, in one shape for every backend. Each backend's
 * parser is a pure, stateful reader of its CLI's JSON event stream: it is fed one stdout line
 * at a time and never touches processes, files or the store.
 */
import type { Usage } from '../domain.js';

/**
 * An error the agent would only wait out or retry in vain: it is stopped at once. `auth` and
 * `config` fail the task for good; `unreachable` fails the attempt, and kugetsu's own backoff
 * (bounded by KUGETSU_MAX_ATTEMPTS) decides whether another follows.
 */
export type FatalAgentError =
  | { kind: 'auth' | 'config' | 'unreachable'; message: string }
  /** The agent has no record of a session kugetsu asked it to continue or fork. */
  | { kind: 'session_lost'; sessionId: string; message: string };

export function isPermanent(error: FatalAgentError): boolean {
  return error.kind === 'auth' || error.kind === 'config';
}

/** The message every backend gives for a model endpoint it cannot connect to. */
export function unreachable(agent: string, detail: string, fix: string): FatalAgentError {
  return {
    kind: 'unreachable',
    message: `${agent}: cannot reach the model endpoint (${oneLine(detail, 160)}): ${fix}`,
  };
}

export interface LineReading {
  /** Human-readable transcript lines for this output line (none for bookkeeping events). */
  display: string[];
  /** Set when this line raised the run's usage; the new cumulative total. */
  usage?: Usage;
  /** Set when the run cannot succeed and should be stopped now. */
  fatal?: FatalAgentError;
}

/** Everything the parser gathered by the end of the run. */
export interface AgentReport {
  sessionId: string | null;
  usage: Usage | null;
  /** The agent's last answer to the user. */
  finalText: string | null;
  /** Set when the agent stopped to ask, or was refused a permission: the task needs the user. */
  question: string | null;
  /** An error the agent reported (it may still exit 0). */
  error: string | null;
  fatal: FatalAgentError | null;
  /** The session's running total, for agents that report one instead of per-run usage. */
  sessionTotals: Usage | null;
}

export interface AgentOutputParser {
  line(text: string): LineReading;
  /** Reads one stderr line (already in the transcript): only errors that change the outcome. */
  stderr?(text: string): FatalAgentError | null;
  report(): AgentReport;
}

/** Parses a JSON object line; anything else (progress text, a partial line) yields null. */
export function jsonLine(text: string): Record<string, unknown> | null {
  const trimmed = text.trim();
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

export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** One line of a possibly long, multi-line text, for the transcript. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Tool output in the transcript: its first lines, indented, so `logs` stays readable. */
export function outputLines(text: string, maxLines = 8): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  const shown = lines
    .slice(0, maxLines)
    .map((l) => `  ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`);
  if (lines.length > maxLines) shown.push(`  … ${lines.length - maxLines} more lines`);
  return text.trim() === '' ? [] : shown;
}

const AUTH_STATUS = new Set([401, 403]);

export function isAuthStatus(status: unknown): boolean {
  return typeof status === 'number' && AUTH_STATUS.has(status);
}

/** The message every backend gives for refused credentials, naming what to fix. */
export function authFailure(agent: string, detail: string, fix: string): FatalAgentError {
  return {
    kind: 'auth',
    message: `${agent}: the model endpoint refused the credentials (${oneLine(detail, 160)}): ${fix}`,
  };
}

/**
 * The `KUGETSU_AGENT_SESSION=<id>` line every backend honours (DESIGN.md §6), so a wrapper
 * script around any CLI can still report its session.
 */
const SESSION_LINE = /^KUGETSU_AGENT_SESSION=([A-Za-z0-9._:@-]{1,200})\s*$/;

export function sessionIdFromMarker(line: string): string | null {
  return SESSION_LINE.exec(line)?.[1] ?? null;
}
