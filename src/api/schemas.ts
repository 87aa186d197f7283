/**
 * The API's request and response schemas. Responses are the CLI's `--json` documents; their
 * schemas name the fields a client relies on (the documents may carry more). Requests are
 * validated here, so a bad one is a 400 naming its field before any operation runs.
 */
import { z } from '@hono/zod-openapi';
import { AGENT_NAMES, EVENT_TYPES, SESSION_STATES, TASK_STATES } from '../../core/domain.js';
import { PROBLEM_CODES } from './problem.js';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(PROBLEM_CODES),
    detail: z.string(),
    field: z.string().optional(),
  })
  .openapi('Problem');

const millis = z.number().int().openapi({ description: 'Unix time in milliseconds' });

export const UsageSchema = z
  .object({
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    cacheReadTokens: z.number().int(),
    cacheWriteTokens: z.number().int(),
    costUsd: z.number().nullable(),
  })
  .openapi('Usage');

export const TaskSchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(['dev', 'pm']),
    mode: z.enum(['start', 'continue', 'resume']),
    issueRef: z.string().nullable(),
    message: z.string(),
    agent: z.enum(AGENT_NAMES),
    model: z.string().nullable(),
    state: z.enum(TASK_STATES),
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    waitReason: z.string().nullable(),
    lastError: z.string().nullable(),
    result: z.string().nullable(),
    cancelRequested: z.boolean(),
    usage: UsageSchema.nullable(),
    createdAt: millis,
    startedAt: millis.nullable(),
    finishedAt: millis.nullable(),
  })
  .openapi('Task');

export const SessionSchema = z
  .object({
    issueRef: z.string(),
    serverName: z.string(),
    repoPath: z.string(),
    branch: z.string(),
    worktreePath: z.string(),
    state: z.enum(SESSION_STATES),
    agent: z.enum(AGENT_NAMES),
    lastMessage: z.string().nullable(),
    lastTaskId: z.number().int().nullable(),
    pullRequest: z
      .object({
        number: z.number().int(),
        url: z.string(),
        state: z.enum(['open', 'closed', 'merged']),
      })
      .nullable(),
    issueState: z.enum(['open', 'closed']).nullable(),
    createdAt: millis,
    updatedAt: millis,
  })
  .openapi('Session');

export const EventSchema = z
  .object({
    id: z
      .number()
      .int()
      .openapi({ description: 'The store id; SSE streams send it as the event id' }),
    type: z.enum(EVENT_TYPES),
    taskId: z.number().int(),
    issueRef: z.string().nullable(),
    message: z.string(),
    createdAt: millis,
    readAt: millis.nullable(),
  })
  .openapi('Event');

export const RunSchema = z
  .object({
    id: z.number().int(),
    taskId: z.number().int(),
    attempt: z.number().int(),
    mode: z.enum(['start', 'continue', 'resume']),
    startedAt: millis,
    finishedAt: millis.nullable(),
    exitCode: z.number().int().nullable(),
    outcome: z.string().nullable(),
    usage: UsageSchema.nullable(),
  })
  .openapi('Run');

export const ServerSchema = z
  .object({
    name: z.string(),
    kind: z.enum(['gitea', 'github', 'gitlab', 'git']),
    url: z.string(),
    host: z.string().nullable(),
    apiUrl: z.string().nullable(),
    tokenEnv: z.string().nullable(),
    isDefault: z.boolean(),
  })
  .openapi('Server');

export const ApprovalSchema = z
  .object({
    id: z.number().int(),
    taskId: z.number().int(),
    issueRef: z.string().nullable(),
    agent: z.string(),
    kind: z.enum(['permission', 'question', 'stall']),
    state: z.enum(['open', 'allowed', 'denied', 'answered', 'expired']),
    subject: z.string(),
    createdAt: millis,
    expiresAt: millis,
    resolvedAt: millis.nullable(),
  })
  .openapi('Approval');

// Requests.

export const TaskIdParam = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'expected a positive task id')
    .openapi({ param: { name: 'id', in: 'path' }, example: '42' }),
});

export const ApprovalIdParam = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'expected a positive approval id')
    .openapi({ param: { name: 'id', in: 'path' }, example: '7' }),
});

const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .optional();

export const AllQuery = z.object({ all: flag });

const ref = z.string().min(1).max(300).openapi({ example: 'local/me/app#3' });
/** Messages travel in an environment variable: core's own limit is checked again below it. */
const message = z
  .string()
  .min(1)
  .max(64 * 1024);
const agentOptions = {
  agent: z.enum(AGENT_NAMES).optional(),
  model: z
    .string()
    .regex(/^\S{1,200}$/, 'expected a model name without spaces')
    .optional(),
};

export const DelegateBody = z.object({ message, ...agentOptions }).strict();
export const StartBody = z.object({ ref, message, ...agentOptions }).strict();
export const ResumeBody = z.object({ ref, message: message.optional(), ...agentOptions }).strict();
export const RefBody = z.object({ ref }).strict();
export const DestroyBody = z.object({ ref, force: z.boolean().optional() }).strict();
export const PruneBody = z
  .object({
    force: z.boolean().optional(),
    dryRun: z.boolean().optional().openapi({ description: 'Report what would go, remove nothing' }),
  })
  .strict();
const repo = z.string().min(1).max(300).openapi({ example: 'me/app' });
export const RepoBody = z.object({ repo }).strict();
export const IntakeAddBody = z
  .object({
    repo,
    label: z.string().max(100).optional().openapi({ description: 'Default `kugetsu`' }),
    mention: z.string().max(65).optional().openapi({ description: 'Default `@kugetsu`' }),
  })
  .strict();
export const ClearBody = z.object({ all: z.boolean().optional() }).strict();
export const ApproveBody = z
  .object({
    scope: z.enum(['once', 'task']).optional(),
    answer: z.string().min(1).max(10_000).optional(),
  })
  .strict();
export const DenyBody = z.object({ message: z.string().max(10_000).optional() }).strict();
export const LoginBody = z.object({ code: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) }).strict();

export const TaskListQuery = z.object({
  state: z
    .string()
    .regex(
      new RegExp(`^(${TASK_STATES.join('|')})(,(${TASK_STATES.join('|')}))*$`),
      'expected task states, comma-separated',
    )
    .optional()
    .openapi({
      description: 'Comma-separated states (default: pending,running; `all=true`: every state)',
    }),
  ref: z.string().min(1).max(300).optional().openapi({ description: "A session's issue ref" }),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  all: flag,
});

export const EventListQuery = z.object({
  all: flag.openapi({ description: 'Read ones too (default: unread only)' }),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: 'Only events with a larger id' }),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

export const LimitQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export const DaysQuery = z.object({ days: z.coerce.number().int().min(1).max(366).optional() });
