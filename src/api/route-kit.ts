/** Pieces every route declaration shares: JSON bodies and responses, the problems it may answer. */
import type { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ProblemError, problem, problemOf, type Problem, type ProblemCode } from './problem.js';
import { ProblemSchema } from './schemas.js';

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (`invalid_request` names the field, or `invalid_json`)',
  401: 'No valid token (`unauthorized`)',
  403: 'A read-only token asked for a change (`read_only`)',
  404: 'Not found (`not_found`)',
  409: 'The operation refused (`conflict`): the detail says why',
  413: 'Body over the size limit (`payload_too_large`)',
  429: 'Rate limit reached (`rate_limited`); see Retry-After',
};

function problemResponses(statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

export const READ_PROBLEMS = problemResponses([400, 401, 404, 429]);
export const WRITE_PROBLEMS = problemResponses([400, 401, 403, 404, 409, 413, 429]);

export function jsonBody<T extends z.ZodTypeAny>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

export function jsonOk<T extends z.ZodTypeAny>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function sendProblem(
  c: Context,
  p: Problem,
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify(p), p.status as ContentfulStatusCode, {
    'Content-Type': 'application/problem+json',
    ...headers,
  });
}

export function fail(
  c: Context,
  status: number,
  code: ProblemCode,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return sendProblem(c, problem(status, code, detail), headers);
}

export function sendError(c: Context, err: unknown): Response {
  return sendProblem(c, problemOf(err), err instanceof ProblemError ? err.headers : {});
}
