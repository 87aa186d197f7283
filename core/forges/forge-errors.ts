/**
 * How a forge request fails, in one format for every forge: the error, and the forge's own
 * words from an error body with a hint at what to fix.
 */
import { OperationError } from '../errors.js';

/** A forge request that failed: one line naming the server, the request and why. */
export class ForgeError extends OperationError {
  /** The HTTP status, or null when no answer came (network error, timeout). */
  readonly status: number | null;
  /** Why, without the server and request: `405 Pull Request is not mergeable`. Scrubbed. */
  readonly reason: string;

  constructor(message: string, status: number | null, reason = message) {
    // A refused token or a missing issue stays so until the user acts: no retry storm.
    super(message, { permanent: status !== null && [401, 403, 404].includes(status) });
    this.status = status;
    this.reason = reason;
  }
}

/** A refused answer as one reason: the status, the forge's words and, when one helps, a hint. */
export function statusReason(response: Response, text: string, tokenEnv: string | null): string {
  const message = forgeMessage(text) || response.statusText || 'no message';
  const parts = [`${response.status} ${truncate(message)}`];
  const hint = statusHint(response, message, tokenEnv);
  if (hint) parts.push(hint);
  return parts.join('; ');
}

/**
 * The forge's own words from an error body. GitHub: `message` plus `errors[].message`;
 * Gitea: `message`; GitLab: `message` as a string, a list, or a field → messages map, or
 * OAuth's `error` / `error_description`.
 */
export function forgeMessage(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // An HTML error page (a proxy's, say) says nothing a person needs; the status text will do.
    const first = text.trim().split('\n')[0] ?? '';
    return first.startsWith('<') ? '' : first;
  }
  if (typeof body !== 'object' || body === null) return '';
  const record = body as Record<string, unknown>;
  const parts: string[] = [];
  const message = flatten(record.message);
  if (message) parts.push(message);
  if (Array.isArray(record.errors)) {
    for (const item of record.errors as unknown[]) {
      if (typeof item === 'string') parts.push(item);
      else if (item && typeof item === 'object') {
        const e = item as Record<string, unknown>;
        if (typeof e.message === 'string') parts.push(e.message);
        else if (typeof e.code === 'string') {
          parts.push([e.resource, e.field, e.code].filter((x) => typeof x === 'string').join(' '));
        }
      }
    }
  }
  if (parts.length === 0) {
    const error = flatten(record.error);
    const description = flatten(record.error_description);
    if (error) parts.push(description ? `${error}: ${description}` : error);
  }
  return parts.join(': ');
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).filter(Boolean).join('; ');
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([field, v]) => `${field} ${flatten(v)}`)
      .join('; ');
  }
  return '';
}

function statusHint(response: Response, message: string, tokenEnv: string | null): string | null {
  switch (response.status) {
    case 401:
      return tokenEnv
        ? `check the token in ${tokenEnv}`
        : "check the server's token (kugetsu server add … --token-env VAR)";
    case 403: {
      const needed = response.headers.get('x-accepted-oauth-scopes');
      if (needed) return `the token needs scope(s): ${needed}`;
      if (/scope/i.test(message)) return "the token's scopes do not allow this";
      return null;
    }
    case 404:
      return 'not found (or the token cannot see it)';
    default:
      return null;
  }
}

function truncate(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
