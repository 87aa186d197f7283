/**
 * Errors as RFC 9457 problem documents (`application/problem+json`) with a stable `code` that
 * clients branch on; `detail` is for people and may change. The mapping from kugetsu's error
 * taxonomy is pure: a UsageError is the caller's fault (400), an OperationError is a refusal
 * of the work as asked (409, or 404 when what was named does not exist).
 */
import { OperationError, UsageError } from '../../core/errors.js';

export const PROBLEM_CODES = [
  'unauthorized',
  'forbidden',
  'read_only',
  'not_found',
  'invalid_request',
  'invalid_json',
  'payload_too_large',
  'rate_limited',
  'conflict',
  'internal',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  /** For invalid_request: the field that was wrong (`body.message`, `query.limit`, `path.id`). */
  field?: string;
}

const TITLES: Record<ProblemCode, string> = {
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  read_only: 'Read-only token',
  not_found: 'Not found',
  invalid_request: 'Invalid request',
  invalid_json: 'Invalid JSON',
  payload_too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  conflict: 'Conflict',
  internal: 'Internal error',
};

export function problem(
  status: number,
  code: ProblemCode,
  detail: string,
  field?: string,
): Problem {
  return {
    type: `https://kugetsu.dev/problems/${code}`,
    title: TITLES[code],
    status,
    code,
    detail,
    ...(field === undefined ? {} : { field }),
  };
}

/** Thrown by a handler to answer with this problem (and headers such as Retry-After). */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail);
  }
}

// OperationErrors that name something missing say so in these words across core/operations.
const NOT_FOUND = /\bnot found\b|^no task has run for /;

/** The problem an error thrown by a core operation stands for; a bug's message is withheld. */
export function problemOf(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  if (err instanceof UsageError) return problem(400, 'invalid_request', err.message);
  if (err instanceof OperationError)
    return NOT_FOUND.test(err.message)
      ? problem(404, 'not_found', err.message)
      : problem(409, 'conflict', err.message);
  return problem(500, 'internal', 'internal error: see the server log');
}
