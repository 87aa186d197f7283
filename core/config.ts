/**
 * Settings (DESIGN.md §1): process environment over `config.env` over defaults, validated with
 * zod at start. A bad value is a one-line UsageError naming the key and the value (never the
 * value of a secret-named key). Everything but `loadConfig` is pure.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { AGENT_NAMES, type AgentName } from './domain.js';
import { parseDotenv } from './dotenv.js';
import { OperationError, UsageError, errorMessage, quote } from './errors.js';
import { parseRepoSpec } from './issue-ref.js';
import { isSecretKey } from './secrets.js';
import { DEFAULT_POLICY_TEXT, parsePolicy, type ApprovalPolicy } from './approvals/policy.js';

export const VERBOSITY_LEVELS = ['verbose', 'default', 'quiet'] as const;
export type Verbosity = (typeof VERBOSITY_LEVELS)[number];

export interface Config {
  maxConcurrentAgents: number;
  agent: AgentName;
  agentCommand: string | undefined;
  pmAgent: AgentName;
  model: string | undefined;
  /** null: from KUGETSU_APPROVAL_POLICY (see permissionModeFor). */
  claudePermissionMode: string | null;
  claudeAllowedTools: string[];
  codexSandbox: string;
  /** Who may do what without asking (KUGETSU_APPROVAL_POLICY). */
  approvalPolicy: ApprovalPolicy;
  approvalTimeoutMs: number;
  /** How long a stall question waits before the stalled agent is stopped. */
  stallGraceMs: number;
  /** What "Give more time" on a stall question adds. */
  stallExtendMs: number;
  /** Budget tokens (input + output + cache writes) per task, or null for no limit. */
  taskTokenBudget: number | null;
  /** Budget tokens per UTC day across all tasks, or null for no limit. */
  dailyTokenBudget: number | null;
  taskTimeoutMs: number;
  stallTimeoutMs: number;
  maxAttempts: number;
  minFreeMemoryMb: number;
  tempDir: string | undefined;
  verbosity: Verbosity;
  sweepIntervalMs: number;
  cleanupAgeMs: number;
  intakeIntervalMs: number;
  defaultServer: string | undefined;
  /** Raw `host/owner/repo` or `owner/repo`; the host of the latter depends on the servers. */
  defaultRepo: string | undefined;
  telegramBotToken: string | undefined;
  telegramAllowedUsers: number[];
  telegramNotifyChats: number[];
  /** Without a trailing slash. */
  telegramApiRoot: string;
  /** Set: webhook mode instead of long polling. */
  telegramWebhookUrl: string | undefined;
  telegramWebhookListen: { host: string; port: number };
  telegramWebhookSecret: string | undefined;
  telegramProgressMs: number;
  /** Largest file accepted with a task (photos, documents, voice notes). */
  attachmentMaxBytes: number;
  /** An OpenAI-compatible transcription endpoint for voice notes; unset: voice is refused. */
  transcribeUrl: string | undefined;
  transcribeModel: string;
  /** kugetsu's own secret, like the bot token: never given to agents. */
  transcribeApiKey: string | undefined;
  retryBaseMs: number;
  killGraceMs: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
// Node fires a setTimeout/setInterval longer than this after 1 ms instead, so a huge timeout
// would kill every task at once: durations that become timers are capped here.
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_TIMER_MINUTES = Math.floor(MAX_TIMER_MS / MINUTE_MS);
const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

const agents = AGENT_NAMES.join(', ');

const CLAUDE_PERMISSION_MODES = ['default', 'acceptEdits', 'plan', 'bypassPermissions'] as const;
const CODEX_SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
const DEFAULT_CLAUDE_ALLOWED_TOOLS =
  'Bash(git add:*),Bash(git commit:*),Bash(git status:*),Bash(git diff:*),Bash(git log:*)';

interface KeyMeta {
  default: string;
  help: string;
  /** Completes "invalid KEY=value: expected …". */
  expected: string;
}

// The order here is the order of config.env and of validation (the first bad key is reported).
const META = {
  MAX_CONCURRENT_AGENTS: {
    default: '3',
    help: 'Most dev agents alive at once for this home, across every kugetsu process.',
    expected: 'a whole number from 1 to 64',
  },
  KUGETSU_AGENT: {
    default: 'opencode',
    help: `Agent backend for issue work: ${agents}.`,
    expected: `one of ${agents}`,
  },
  KUGETSU_AGENT_COMMAND: {
    default: '',
    help: 'For KUGETSU_AGENT=command: run by `sh -c` in the worktree; the prompt arrives on stdin and in KUGETSU_MESSAGE.',
    expected: 'a shell command',
  },
  KUGETSU_PM_AGENT: {
    default: '',
    help: `Agent backend of the PM agent: ${agents} (default: KUGETSU_AGENT).`,
    expected: `one of ${agents}`,
  },
  KUGETSU_MODEL: {
    default: '',
    help: "Model for every backend (default: each agent's own choice).",
    expected: 'a model name without spaces',
  },
  KUGETSU_CLAUDE_PERMISSION_MODE: {
    default: '',
    help: 'claude --permission-mode for every run (default: from KUGETSU_APPROVAL_POLICY, see docs/agents.md). What claude asks about goes to kugetsu as an approval.',
    expected: `one of ${CLAUDE_PERMISSION_MODES.join(', ')}`,
  },
  KUGETSU_CLAUDE_ALLOWED_TOOLS: {
    default: DEFAULT_CLAUDE_ALLOWED_TOOLS,
    help: 'Comma-separated claude --allowedTools rules, run without asking whatever KUGETSU_APPROVAL_POLICY says (so the agent can commit).',
    expected: 'comma-separated tool rules such as Bash(git commit:*)',
  },
  KUGETSU_CODEX_SANDBOX: {
    default: 'workspace-write',
    help: "codex sandbox_mode for every run; the repository's git directory is always writable.",
    expected: `one of ${CODEX_SANDBOX_MODES.join(', ')}`,
  },
  KUGETSU_APPROVAL_POLICY: {
    default: DEFAULT_POLICY_TEXT,
    help: 'What agents may do without asking: comma-separated [agent:]category=allow|ask|deny, categories bash, edit (inside the worktree), outside (beyond it), network, other, question; the most specific rule wins. `ask` waits for an answer from the phone or `kugetsu approve`.',
    expected:
      'comma-separated [agent:]category=allow|ask|deny rules, e.g. bash=ask,edit=allow,claude:network=deny',
  },
  KUGETSU_APPROVAL_TIMEOUT: {
    default: '30m',
    help: 'An approval nobody answers within this long is denied and the agent is told (a number of minutes, or with s, m or h).',
    expected: 'a positive duration such as 30, 30m, 90s or 1.5h',
  },
  KUGETSU_TASK_BUDGET: {
    default: '0',
    help: 'Most tokens (input + output + cache writes) one task may use; a run that crosses it is stopped. 0: no limit.',
    expected: 'a whole number of tokens, 0 or more',
  },
  KUGETSU_DAILY_BUDGET: {
    default: '0',
    help: 'Most tokens all tasks may use per UTC day; a run that crosses it is stopped, and none starts until the next day. 0: no limit.',
    expected: 'a whole number of tokens, 0 or more',
  },
  KUGETSU_TASK_TIMEOUT_MINUTES: {
    default: '60',
    help: 'A run longer than this is killed and counts as a failed attempt. Fractions allowed.',
    expected: `a positive number of minutes, at most ${MAX_TIMER_MINUTES}`,
  },
  KUGETSU_STALL_TIMEOUT_MINUTES: {
    default: '10',
    help: 'A run with no output for this long is stalled: asked about first (KUGETSU_STALL_GRACE_MINUTES), then killed as a failed attempt. Time spent waiting for an approval does not count.',
    expected: `a positive number of minutes, at most ${MAX_TIMER_MINUTES}`,
  },
  KUGETSU_STALL_GRACE_MINUTES: {
    default: '5',
    help: 'A stalled run is first asked about (Give more time / Stop); with no answer within this long it is stopped.',
    expected: `a positive number of minutes, at most ${MAX_TIMER_MINUTES}`,
  },
  KUGETSU_STALL_EXTEND_MINUTES: {
    default: '10',
    help: 'How much more time "Give more time" on a stall question gives the agent.',
    expected: `a positive number of minutes, at most ${MAX_TIMER_MINUTES}`,
  },
  KUGETSU_MAX_ATTEMPTS: {
    default: '3',
    help: 'Attempts per task before it ends in error.',
    expected: 'a whole number from 1 to 1000',
  },
  KUGETSU_MIN_FREE_MEMORY_MB: {
    default: '512',
    help: 'No agent starts while less memory than this is available; its task waits. 0 turns the check off.',
    expected: 'a whole number of MB, 0 or more',
  },
  KUGETSU_TEMP_DIR: {
    default: '',
    help: 'Directory for temporary files (default: the system temp dir).',
    expected: 'an absolute path',
  },
  KUGETSU_VERBOSITY: {
    default: 'default',
    help: `How much kugetsu prints: ${VERBOSITY_LEVELS.join(', ')}.`,
    expected: `one of ${VERBOSITY_LEVELS.join(', ')}`,
  },
  QUEUE_DAEMON_INTERVAL_MINUTES: {
    default: '5',
    help: 'Interval of the fallback sweep of the daemon; dispatch itself is event-driven.',
    expected: `a positive number of minutes, at most ${MAX_TIMER_MINUTES}`,
  },
  QUEUE_CLEANUP_AGE_DAYS: {
    default: '7',
    help: 'Finished tasks older than this are deleted by the sweep.',
    expected: 'a positive number of days, at most 36500',
  },
  KUGETSU_INTAKE_INTERVAL_SECONDS: {
    default: '60',
    help: 'How often the daemon polls watched repositories (`kugetsu intake add`) for labelled issues and mentions; conditional requests keep idle polls cheap.',
    expected: `a positive number of seconds, at most ${MAX_TIMER_SECONDS}`,
  },
  KUGETSU_DEFAULT_SERVER: {
    default: '',
    help: 'Server (by name) whose host owner/repo#N refs use (default: the one set by `kugetsu server default`).',
    expected: 'a server name',
  },
  KUGETSU_DEFAULT_REPO: {
    default: '',
    help: 'Repository that #N refs use: host/owner/repo, or owner/repo on the default server.',
    expected: 'host/owner/repo or owner/repo',
  },
  TELEGRAM_BOT_TOKEN: {
    default: '',
    help: 'Token from @BotFather; when set, the daemon runs the Telegram bot. Never passed to agents.',
    expected: 'a bot token of the form 123456:ABC-def',
  },
  TELEGRAM_ALLOWED_USERS: {
    default: '',
    help: 'Comma-separated Telegram user ids allowed to use the bot (empty: nobody).',
    expected: 'comma-separated positive user ids',
  },
  TELEGRAM_NOTIFY_CHATS: {
    default: '',
    help: 'Comma-separated Telegram chat ids that receive every event (group ids are negative).',
    expected: 'comma-separated chat ids',
  },
  TELEGRAM_API_ROOT: {
    default: 'https://api.telegram.org',
    help: 'Root of the Telegram Bot API (a self-hosted Bot API server, or a test double).',
    expected: 'an http(s) URL',
  },
  TELEGRAM_WEBHOOK_URL: {
    default: '',
    help: 'Public https URL that reaches TELEGRAM_WEBHOOK_LISTEN (e.g. through a reverse proxy); set it for webhook mode instead of long polling.',
    expected: 'an https URL',
  },
  TELEGRAM_WEBHOOK_LISTEN: {
    default: '127.0.0.1:8443',
    help: 'host:port the webhook server listens on, in webhook mode.',
    expected: 'host:port',
  },
  TELEGRAM_WEBHOOK_SECRET: {
    default: '',
    help: 'Secret Telegram sends with every webhook call (default: a new random one at each start).',
    expected: '1-256 characters of A-Z, a-z, 0-9, _ and -',
  },
  TELEGRAM_PROGRESS_SECONDS: {
    default: '5',
    help: 'How often the status message of a running task is edited with its progress.',
    expected: `a positive number of seconds, at most ${MAX_TIMER_SECONDS}`,
  },
  KUGETSU_ATTACHMENT_MAX_MB: {
    default: '20',
    help: "Largest file (photo, document, voice note) the bot accepts with a task, in MB; Telegram's cloud Bot API serves bots at most 20.",
    expected: 'a whole number of MB from 1 to 2000',
  },
  KUGETSU_TRANSCRIBE_URL: {
    default: '',
    help: 'OpenAI-compatible transcription endpoint for Telegram voice notes, e.g. https://api.openai.com/v1/audio/transcriptions (unset: voice notes are refused).',
    expected: 'an http(s) URL',
  },
  KUGETSU_TRANSCRIBE_MODEL: {
    default: 'whisper-1',
    help: 'Model the transcription endpoint is asked for.',
    expected: 'a model name without spaces',
  },
  KUGETSU_TRANSCRIBE_API_KEY: {
    default: '',
    help: "Bearer key of the transcription endpoint. kugetsu's own secret: keep it here or in the environment, not in env/*.env (agents get those).",
    expected: 'a key without spaces',
  },
  KUGETSU_RETRY_BASE_SECONDS: {
    default: '10',
    help: 'Delay before the first retry of a failed run; it doubles per attempt, capped at 5 minutes.',
    expected: `a positive number of seconds, at most ${MAX_TIMER_SECONDS}`,
  },
  KUGETSU_KILL_GRACE_SECONDS: {
    default: '10',
    help: 'Stop, timeout and shutdown send SIGTERM to the agent, then SIGKILL after this long.',
    expected: `a positive number of seconds, at most ${MAX_TIMER_SECONDS}`,
  },
} as const satisfies Record<string, KeyMeta>;

type Key = keyof typeof META;

/** Every setting, in config.env order: for config.env, .env.example and the docs. */
export const CONFIG_KEYS: ReadonlyArray<{ key: string; default: string; help: string }> = (
  Object.keys(META) as Key[]
).map((key) => ({ key, default: META[key].default, help: META[key].help }));

const CONFIG_KEY_SET: ReadonlySet<string> = new Set(Object.keys(META));

// Empty (or blank) counts as unset, so `KEY=` in config.env or an exported empty variable
// falls back to the default instead of failing.
function blankToUndefined(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function withDefault<T extends z.ZodType>(key: Key, schema: T) {
  const fallback = META[key].default;
  return z.preprocess((v) => blankToUndefined(v) ?? fallback, schema);
}

function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess(blankToUndefined, schema.optional());
}

// Explicit digit patterns rather than z.coerce.number(), which would accept "0x10", "1e3",
// "Infinity" and, worse, turn " " into 0.
function wholeNumber(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]{1,15}$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

function positiveNumber(max: number) {
  return z
    .string()
    .regex(/^(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})$/)
    .transform(Number)
    .pipe(z.number().positive().max(max));
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: 60 * MINUTE_MS };

/** Minutes by default, or with an s, m or h suffix; in milliseconds, at least 1 ms. */
function duration(maxMs: number) {
  return z
    .string()
    .regex(/^(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})[smh]?$/)
    .transform((text) => {
      const suffixed = /[smh]$/.test(text);
      const unitMs = suffixed ? (DURATION_UNITS_MS[text.slice(-1)] ?? MINUTE_MS) : MINUTE_MS;
      const amount = Number(suffixed ? text.slice(0, -1) : text);
      // Zero stays zero so that `positive()` refuses it; toMs would round it up to 1 ms.
      return amount === 0 ? 0 : toMs(amount, unitMs);
    })
    .pipe(z.number().positive().max(maxMs));
}

function idList(signed: boolean) {
  const id = signed ? /^-?[1-9][0-9]{0,15}$/ : /^[1-9][0-9]{0,15}$/;
  return z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== ''),
    )
    .pipe(z.array(z.string().regex(id).transform(Number).pipe(z.number().int().safe())));
}

function isRepoSpec(value: string): boolean {
  try {
    // The real default host is only known once servers are read; any host checks the shape.
    parseRepoSpec(value, 'default-server');
    return true;
  } catch {
    return false;
  }
}

const ConfigSchema = z.object({
  MAX_CONCURRENT_AGENTS: withDefault('MAX_CONCURRENT_AGENTS', wholeNumber(1, 64)),
  KUGETSU_AGENT: withDefault('KUGETSU_AGENT', z.enum(AGENT_NAMES)),
  KUGETSU_AGENT_COMMAND: optional(z.string()),
  KUGETSU_PM_AGENT: optional(z.enum(AGENT_NAMES)),
  KUGETSU_MODEL: optional(z.string().regex(/^\S+$/)),
  KUGETSU_CLAUDE_PERMISSION_MODE: optional(z.enum(CLAUDE_PERMISSION_MODES)),
  KUGETSU_CLAUDE_ALLOWED_TOOLS: withDefault(
    'KUGETSU_CLAUDE_ALLOWED_TOOLS',
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((rule) => rule.trim())
          .filter((rule) => rule !== ''),
      )
      .pipe(z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(?:\([^()\n]*\))?$/))),
  ),
  KUGETSU_CODEX_SANDBOX: withDefault('KUGETSU_CODEX_SANDBOX', z.enum(CODEX_SANDBOX_MODES)),
  KUGETSU_APPROVAL_POLICY: withDefault(
    'KUGETSU_APPROVAL_POLICY',
    z.string().transform((text, ctx) => {
      try {
        return parsePolicy(text);
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom });
        return z.NEVER;
      }
    }),
  ),
  KUGETSU_APPROVAL_TIMEOUT: withDefault('KUGETSU_APPROVAL_TIMEOUT', duration(MAX_TIMER_MS)),
  KUGETSU_TASK_BUDGET: withDefault('KUGETSU_TASK_BUDGET', wholeNumber(0, Number.MAX_SAFE_INTEGER)),
  KUGETSU_DAILY_BUDGET: withDefault(
    'KUGETSU_DAILY_BUDGET',
    wholeNumber(0, Number.MAX_SAFE_INTEGER),
  ),
  KUGETSU_TASK_TIMEOUT_MINUTES: withDefault(
    'KUGETSU_TASK_TIMEOUT_MINUTES',
    positiveNumber(MAX_TIMER_MINUTES),
  ),
  KUGETSU_STALL_TIMEOUT_MINUTES: withDefault(
    'KUGETSU_STALL_TIMEOUT_MINUTES',
    positiveNumber(MAX_TIMER_MINUTES),
  ),
  KUGETSU_STALL_GRACE_MINUTES: withDefault(
    'KUGETSU_STALL_GRACE_MINUTES',
    positiveNumber(MAX_TIMER_MINUTES),
  ),
  KUGETSU_STALL_EXTEND_MINUTES: withDefault(
    'KUGETSU_STALL_EXTEND_MINUTES',
    positiveNumber(MAX_TIMER_MINUTES),
  ),
  KUGETSU_MAX_ATTEMPTS: withDefault('KUGETSU_MAX_ATTEMPTS', wholeNumber(1, 1000)),
  KUGETSU_MIN_FREE_MEMORY_MB: withDefault(
    'KUGETSU_MIN_FREE_MEMORY_MB',
    wholeNumber(0, Number.MAX_SAFE_INTEGER),
  ),
  KUGETSU_TEMP_DIR: optional(
    z.string().refine((p) => isAbsolute(p) && !p.includes('\0') && !/[\r\n]/.test(p)),
  ),
  KUGETSU_VERBOSITY: withDefault('KUGETSU_VERBOSITY', z.enum(VERBOSITY_LEVELS)),
  QUEUE_DAEMON_INTERVAL_MINUTES: withDefault(
    'QUEUE_DAEMON_INTERVAL_MINUTES',
    positiveNumber(MAX_TIMER_MINUTES),
  ),
  QUEUE_CLEANUP_AGE_DAYS: withDefault('QUEUE_CLEANUP_AGE_DAYS', positiveNumber(36_500)),
  KUGETSU_INTAKE_INTERVAL_SECONDS: withDefault(
    'KUGETSU_INTAKE_INTERVAL_SECONDS',
    positiveNumber(MAX_TIMER_SECONDS),
  ),
  KUGETSU_DEFAULT_SERVER: optional(z.string()),
  KUGETSU_DEFAULT_REPO: optional(z.string().refine(isRepoSpec)),
  TELEGRAM_BOT_TOKEN: optional(z.string().regex(/^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$/)),
  TELEGRAM_ALLOWED_USERS: withDefault('TELEGRAM_ALLOWED_USERS', idList(false)),
  TELEGRAM_NOTIFY_CHATS: withDefault('TELEGRAM_NOTIFY_CHATS', idList(true)),
  TELEGRAM_API_ROOT: withDefault(
    'TELEGRAM_API_ROOT',
    z
      .string()
      .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol))
      .transform((url) => url.replace(/\/+$/, '')),
  ),
  TELEGRAM_WEBHOOK_URL: optional(
    z.string().refine((url) => URL.canParse(url) && new URL(url).protocol === 'https:'),
  ),
  TELEGRAM_WEBHOOK_LISTEN: withDefault(
    'TELEGRAM_WEBHOOK_LISTEN',
    z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+:[0-9]{1,5}$/)
      .transform((value) => {
        const at = value.lastIndexOf(':');
        return {
          host: value.slice(0, at).replace(/^\[|\]$/g, ''),
          port: Number(value.slice(at + 1)),
        };
      })
      .refine((listen) => listen.port <= 65535),
  ),
  TELEGRAM_WEBHOOK_SECRET: optional(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/)),
  TELEGRAM_PROGRESS_SECONDS: withDefault(
    'TELEGRAM_PROGRESS_SECONDS',
    positiveNumber(MAX_TIMER_SECONDS),
  ),
  KUGETSU_ATTACHMENT_MAX_MB: withDefault('KUGETSU_ATTACHMENT_MAX_MB', wholeNumber(1, 2000)),
  KUGETSU_TRANSCRIBE_URL: optional(
    z.string().refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol)),
  ),
  KUGETSU_TRANSCRIBE_MODEL: withDefault(
    'KUGETSU_TRANSCRIBE_MODEL',
    z.string().regex(/^\S{1,200}$/),
  ),
  KUGETSU_TRANSCRIBE_API_KEY: optional(z.string().regex(/^\S{1,2000}$/)),
  KUGETSU_RETRY_BASE_SECONDS: withDefault(
    'KUGETSU_RETRY_BASE_SECONDS',
    positiveNumber(MAX_TIMER_SECONDS),
  ),
  KUGETSU_KILL_GRACE_SECONDS: withDefault(
    'KUGETSU_KILL_GRACE_SECONDS',
    positiveNumber(MAX_TIMER_SECONDS),
  ),
} satisfies Record<Key, z.ZodType>);

/** At least 1 ms: a fraction too small to register must not become "no timeout at all". */
function toMs(amount: number, unitMs: number): number {
  return Math.max(1, Math.round(amount * unitMs));
}

/** Validates raw settings (already merged by precedence); unknown keys are ignored. Pure. */
export function parseConfig(raw: Record<string, string | undefined>): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of CONFIG_KEY_SET) input[key] = raw[key];
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const key = String(result.error.issues[0]?.path[0] ?? '') as Key;
    const expected = key in META ? META[key].expected : 'a valid value';
    const shown = isSecretKey(key) ? ' (value not shown)' : `=${quote(raw[key] ?? '')}`;
    throw new UsageError(`invalid ${key}${shown}: expected ${expected}`);
  }
  const v = result.data;
  return {
    maxConcurrentAgents: v.MAX_CONCURRENT_AGENTS,
    agent: v.KUGETSU_AGENT,
    agentCommand: v.KUGETSU_AGENT_COMMAND,
    pmAgent: v.KUGETSU_PM_AGENT ?? v.KUGETSU_AGENT,
    model: v.KUGETSU_MODEL,
    claudePermissionMode: v.KUGETSU_CLAUDE_PERMISSION_MODE ?? null,
    claudeAllowedTools: v.KUGETSU_CLAUDE_ALLOWED_TOOLS,
    codexSandbox: v.KUGETSU_CODEX_SANDBOX,
    approvalPolicy: v.KUGETSU_APPROVAL_POLICY,
    approvalTimeoutMs: v.KUGETSU_APPROVAL_TIMEOUT,
    stallGraceMs: toMs(v.KUGETSU_STALL_GRACE_MINUTES, MINUTE_MS),
    stallExtendMs: toMs(v.KUGETSU_STALL_EXTEND_MINUTES, MINUTE_MS),
    taskTokenBudget: v.KUGETSU_TASK_BUDGET === 0 ? null : v.KUGETSU_TASK_BUDGET,
    dailyTokenBudget: v.KUGETSU_DAILY_BUDGET === 0 ? null : v.KUGETSU_DAILY_BUDGET,
    taskTimeoutMs: toMs(v.KUGETSU_TASK_TIMEOUT_MINUTES, MINUTE_MS),
    stallTimeoutMs: toMs(v.KUGETSU_STALL_TIMEOUT_MINUTES, MINUTE_MS),
    maxAttempts: v.KUGETSU_MAX_ATTEMPTS,
    minFreeMemoryMb: v.KUGETSU_MIN_FREE_MEMORY_MB,
    tempDir: v.KUGETSU_TEMP_DIR,
    verbosity: v.KUGETSU_VERBOSITY,
    sweepIntervalMs: toMs(v.QUEUE_DAEMON_INTERVAL_MINUTES, MINUTE_MS),
    cleanupAgeMs: toMs(v.QUEUE_CLEANUP_AGE_DAYS, DAY_MS),
    intakeIntervalMs: toMs(v.KUGETSU_INTAKE_INTERVAL_SECONDS, 1000),
    defaultServer: v.KUGETSU_DEFAULT_SERVER,
    defaultRepo: v.KUGETSU_DEFAULT_REPO,
    telegramBotToken: v.TELEGRAM_BOT_TOKEN,
    telegramAllowedUsers: v.TELEGRAM_ALLOWED_USERS,
    telegramNotifyChats: v.TELEGRAM_NOTIFY_CHATS,
    telegramApiRoot: v.TELEGRAM_API_ROOT,
    telegramWebhookUrl: v.TELEGRAM_WEBHOOK_URL,
    telegramWebhookListen: v.TELEGRAM_WEBHOOK_LISTEN,
    telegramWebhookSecret: v.TELEGRAM_WEBHOOK_SECRET,
    telegramProgressMs: toMs(v.TELEGRAM_PROGRESS_SECONDS, 1000),
    attachmentMaxBytes: v.KUGETSU_ATTACHMENT_MAX_MB * 1024 * 1024,
    transcribeUrl: v.KUGETSU_TRANSCRIBE_URL,
    transcribeModel: v.KUGETSU_TRANSCRIBE_MODEL,
    transcribeApiKey: v.KUGETSU_TRANSCRIBE_API_KEY,
    retryBaseMs: toMs(v.KUGETSU_RETRY_BASE_SECONDS, 1000),
    killGraceMs: toMs(v.KUGETSU_KILL_GRACE_SECONDS, 1000),
  };
}

/**
 * Precedence for every known key: the process environment, then config.env. An empty value
 * counts as unset at each level, so an exported `KEY=` does not hide the file's value. Pure.
 */
export function mergeConfigSources(
  processEnv: Record<string, string | undefined>,
  fileValues: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = {};
  for (const key of CONFIG_KEY_SET) {
    const fromEnv = processEnv[key];
    const fromFile = fileValues[key];
    if (fromEnv !== undefined && fromEnv.trim() !== '') merged[key] = fromEnv;
    else if (fromFile !== undefined && fromFile.trim() !== '') merged[key] = fromFile;
  }
  return merged;
}

/** Every `KEY=value` of `<home>/config.env`, known keys or not; empty when there is no file. */
export function readConfigFile(home: string): Record<string, string> {
  const file = join(home, 'config.env');
  try {
    return parseDotenv(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new OperationError(`cannot read ${file}: ${errorMessage(err)}`);
  }
}

/** Reads `<home>/config.env` (if any), applies precedence and validates. */
export function loadConfig(
  home: string,
  processEnv: Record<string, string | undefined> = process.env,
  fileValues: Record<string, string> = readConfigFile(home),
): Config {
  return parseConfig(mergeConfigSources(processEnv, fileValues));
}

/** The text of a fresh config.env (and .env.example): every key commented out, with its help. */
export function renderConfigEnv(): string {
  const lines = [
    '# kugetsu settings.',
    '# Precedence, highest first: the process environment, this file, the built-in defaults.',
    '# Every key below shows its default; uncomment a line to change it. An empty value means unset.',
    '# Secrets for agents (API keys, forge tokens) belong in env/*.env: see `kugetsu env set`.',
    '',
  ];
  for (const { key, default: fallback, help } of CONFIG_KEYS) {
    lines.push(`# ${help}`, `# ${key}=${fallback}`, '');
  }
  return lines.join('\n');
}
