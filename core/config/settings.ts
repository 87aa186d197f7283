/**
 * Every setting of kugetsu (DESIGN.md §1), declared once. From this table come the validation
 * (core/config.ts), the `Config` type, and the config.env that `kugetsu init` writes
 * (core/config/render.ts), which .env.example repeats.
 *
 * To add a setting, add one entry where it belongs: the order here is the order of config.env,
 * of the docs and of validation (the first bad key is reported). Pure.
 */
import { DEFAULT_POLICY_TEXT } from '../approvals/policy.js';
import { AGENT_NAMES } from '../domain.js';
import * as t from './value-types.js';

export const VERBOSITY_LEVELS = ['verbose', 'default', 'quiet'] as const;
export type Verbosity = (typeof VERBOSITY_LEVELS)[number];

export interface Setting<Out = unknown> {
  /** The variable's name, in the environment and in config.env. */
  key: string;
  /** The field of `Config` it fills (core/config.ts may derive more from it). */
  field: string;
  type: t.ValueType<Out>;
  /**
   * As written in config.env, and parsed like any value when the key is unset or blank (so `''`
   * gives an empty list). Without one, an unset key is `undefined`.
   */
  default?: string;
  /** One line: the comment above the key in config.env, and its row in the docs. */
  doc: string;
  /** Overrides the type's own words after "invalid KEY=value: expected". */
  expected?: string;
  /**
   * The value is never echoed. Must agree with isSecretKey(key), the name rule the rest of
   * kugetsu masks and scrubs by (a test checks): name a secret setting …_TOKEN, …_SECRET, ….
   */
  secret?: true;
  /** Not a secret by its name, but it may carry one (a URL's password): never echoed either. */
  conceal?: true;
}

const agents = AGENT_NAMES.join(', ');

export const SETTINGS = [
  {
    key: 'MAX_CONCURRENT_AGENTS',
    field: 'maxConcurrentAgents',
    type: t.wholeNumber({ min: 1, max: 64 }),
    default: '3',
    doc: 'Most dev agents alive at once for this home, across every kugetsu process; with KUGETSU_DATABASE_URL, on this worker.',
  },
  {
    key: 'KUGETSU_DATABASE_URL',
    field: 'databaseUrl',
    type: t.postgresUrl(),
    conceal: true,
    doc: "PostgreSQL shared by several machines (see docs/scale-out.md); unset: the home's own SQLite file. Its password is scrubbed from output and withheld from agents.",
  },
  {
    key: 'KUGETSU_WORKER_NAME',
    field: 'workerName',
    type: t.matching(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
      '1-63 characters of A-Z, a-z, 0-9, ., _ and -',
    ),
    doc: "With KUGETSU_DATABASE_URL: this machine's name among the workers (unset: the host name). One daemon runs per worker name.",
  },
  {
    key: 'KUGETSU_GLOBAL_MAX_AGENTS',
    field: 'globalMaxAgents',
    type: t.wholeNumber({ min: 1, max: 4096 }),
    doc: "With KUGETSU_DATABASE_URL: most dev agents alive at once across every worker (unset: only each worker's MAX_CONCURRENT_AGENTS).",
  },
  {
    key: 'KUGETSU_WORKER_LEASE_SECONDS',
    field: 'workerLeaseMs',
    type: t.seconds(),
    default: '30',
    doc: 'With KUGETSU_DATABASE_URL: a worker silent this long is dead; its running tasks are recovered and may run elsewhere, and its bot leadership passes on.',
  },
  {
    key: 'KUGETSU_AGENT',
    field: 'agent',
    type: t.oneOf(AGENT_NAMES),
    default: 'opencode',
    doc: `Agent backend for issue work: ${agents} (see docs/agents.md).`,
  },
  {
    key: 'KUGETSU_AGENT_COMMAND',
    field: 'agentCommand',
    type: t.text(),
    expected: 'a shell command',
    doc: 'For KUGETSU_AGENT=command: run by `sh -c` in the worktree; the prompt arrives on stdin and in KUGETSU_MESSAGE.',
  },
  {
    key: 'KUGETSU_PM_AGENT',
    field: 'pmAgent',
    type: t.oneOf(AGENT_NAMES),
    doc: `Agent backend of the PM agent: ${agents} (default: KUGETSU_AGENT).`,
  },
  {
    key: 'KUGETSU_MODEL',
    field: 'model',
    type: t.matching(/^\S+$/, 'a model name without spaces'),
    doc: "Model for every backend (default: each agent's own choice); agents see it as KUGETSU_MODEL.",
  },
  {
    key: 'KUGETSU_CLAUDE_PERMISSION_MODE',
    field: 'claudePermissionMode',
    type: t.oneOf(['default', 'acceptEdits', 'plan', 'bypassPermissions']),
    doc: 'claude --permission-mode for every run (default: from KUGETSU_APPROVAL_POLICY, see docs/agents.md#claude-code). What claude asks about goes to kugetsu as an approval.',
  },
  {
    key: 'KUGETSU_CLAUDE_ALLOWED_TOOLS',
    field: 'claudeAllowedTools',
    type: t.toolRules(),
    default:
      'Bash(git add:*),Bash(git commit:*),Bash(git status:*),Bash(git diff:*),Bash(git log:*)',
    doc: 'Comma-separated claude --allowedTools rules, run without asking whatever KUGETSU_APPROVAL_POLICY says (so the agent can commit).',
  },
  {
    key: 'KUGETSU_CODEX_SANDBOX',
    field: 'codexSandbox',
    type: t.oneOf(['read-only', 'workspace-write', 'danger-full-access']),
    default: 'workspace-write',
    doc: "codex sandbox_mode for every run; the repository's git directory is always writable.",
  },
  {
    key: 'KUGETSU_APPROVAL_POLICY',
    field: 'approvalPolicy',
    type: t.approvalPolicy(),
    default: DEFAULT_POLICY_TEXT,
    doc: 'What agents may do without asking: comma-separated `[agent:]category=allow|ask|deny` rules, categories bash, edit (inside the worktree), outside (beyond it), network, other, question; the most specific rule wins. `ask` waits for an answer from the phone or `kugetsu approve`.',
  },
  {
    key: 'KUGETSU_APPROVAL_TIMEOUT',
    field: 'approvalTimeoutMs',
    type: t.duration(),
    default: '30m',
    doc: 'An approval nobody answers within this long is denied and the agent is told (a number of minutes, or with s, m or h).',
  },
  {
    key: 'KUGETSU_TASK_BUDGET',
    field: 'taskTokenBudget',
    type: t.tokenBudget(),
    default: '0',
    doc: 'Most tokens (input + output + cache writes) one task may use; a run that crosses it is stopped. 0: no limit.',
  },
  {
    key: 'KUGETSU_DAILY_BUDGET',
    field: 'dailyTokenBudget',
    type: t.tokenBudget(),
    default: '0',
    doc: 'Most tokens all tasks may use per UTC day; a run that crosses it is stopped, and none starts until the next day. 0: no limit.',
  },
  {
    key: 'KUGETSU_TASK_TIMEOUT_MINUTES',
    field: 'taskTimeoutMs',
    type: t.minutes(),
    default: '60',
    doc: 'A run longer than this is killed and counts as a failed attempt. Fractions allowed.',
  },
  {
    key: 'KUGETSU_STALL_TIMEOUT_MINUTES',
    field: 'stallTimeoutMs',
    type: t.minutes(),
    default: '10',
    doc: 'A run with no output for this long is stalled: asked about first (KUGETSU_STALL_GRACE_MINUTES), then killed as a failed attempt. Time spent waiting for an approval does not count.',
  },
  {
    key: 'KUGETSU_STALL_GRACE_MINUTES',
    field: 'stallGraceMs',
    type: t.minutes(),
    default: '5',
    doc: 'A stalled run is first asked about (Give more time / Stop); with no answer within this long it is stopped.',
  },
  {
    key: 'KUGETSU_STALL_EXTEND_MINUTES',
    field: 'stallExtendMs',
    type: t.minutes(),
    default: '10',
    doc: 'How much more time "Give more time" on a stall question gives the agent.',
  },
  {
    key: 'KUGETSU_MAX_ATTEMPTS',
    field: 'maxAttempts',
    type: t.wholeNumber({ min: 1, max: 1000 }),
    default: '3',
    doc: 'Attempts per task before it ends in error.',
  },
  {
    key: 'KUGETSU_MIN_FREE_MEMORY_MB',
    field: 'minFreeMemoryMb',
    type: t.wholeNumber({ min: 0, unit: 'MB' }),
    default: '512',
    doc: 'No agent starts while less memory than this is available (MemAvailable); its task waits, and `queue list` says why. 0 turns the check off.',
  },
  {
    key: 'KUGETSU_TEMP_DIR',
    field: 'tempDir',
    type: t.absolutePath(),
    doc: "Directory for temporary files, such as the demo's home (default: the system temp dir).",
  },
  {
    key: 'KUGETSU_VERBOSITY',
    field: 'verbosity',
    type: t.oneOf(VERBOSITY_LEVELS),
    default: 'default',
    doc: `How much kugetsu prints: ${VERBOSITY_LEVELS.join(', ')}.`,
  },
  {
    key: 'QUEUE_DAEMON_INTERVAL_MINUTES',
    field: 'sweepIntervalMs',
    type: t.minutes(),
    default: '5',
    doc: 'Interval of the fallback sweep of the daemon; dispatch itself is event-driven.',
  },
  {
    key: 'QUEUE_CLEANUP_AGE_DAYS',
    field: 'cleanupAgeMs',
    type: t.days(36_500),
    default: '7',
    doc: 'Finished tasks older than this are deleted by the sweep.',
  },
  {
    key: 'KUGETSU_INTAKE_INTERVAL_SECONDS',
    field: 'intakeIntervalMs',
    type: t.seconds(),
    default: '60',
    doc: 'How often the daemon polls watched repositories (`kugetsu intake add`) for labelled issues and mentions, and refreshes open pull requests; conditional requests keep idle polls cheap.',
  },
  {
    key: 'KUGETSU_DEFAULT_SERVER',
    field: 'defaultServer',
    type: t.text(),
    expected: 'a server name',
    doc: 'Server (by name) whose host owner/repo#N refs use (default: the one set by `kugetsu server default`).',
  },
  {
    key: 'KUGETSU_DEFAULT_REPO',
    field: 'defaultRepo',
    type: t.repoSpec(),
    doc: 'Repository that #N refs use: host/owner/repo, or owner/repo on the default server.',
  },
  {
    key: 'TELEGRAM_BOT_TOKEN',
    field: 'telegramBotToken',
    type: t.matching(
      /^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$/,
      'a bot token of the form 123456:ABC-def',
    ),
    secret: true,
    doc: 'Token from @BotFather; when set, the daemon runs the Telegram bot (see docs/telegram.md). Never passed to agents.',
  },
  {
    key: 'TELEGRAM_ALLOWED_USERS',
    field: 'telegramAllowedUsers',
    type: t.idList({ signed: false }),
    default: '',
    expected: 'comma-separated positive user ids',
    doc: 'Comma-separated Telegram user ids allowed to use the bot (empty: nobody).',
  },
  {
    key: 'TELEGRAM_NOTIFY_CHATS',
    field: 'telegramNotifyChats',
    type: t.idList({ signed: true }),
    default: '',
    expected: 'comma-separated chat ids',
    doc: 'Comma-separated Telegram chat ids that receive every event (group ids are negative).',
  },
  {
    key: 'TELEGRAM_API_ROOT',
    field: 'telegramApiRoot',
    type: t.httpUrl(),
    default: 'https://api.telegram.org',
    doc: 'Root of the Telegram Bot API (a self-hosted Bot API server, or a test double).',
  },
  {
    key: 'TELEGRAM_WEBHOOK_URL',
    field: 'telegramWebhookUrl',
    type: t.httpsUrl(),
    doc: 'Public https URL that reaches TELEGRAM_WEBHOOK_LISTEN (e.g. through a reverse proxy); set it for webhook mode instead of long polling.',
  },
  {
    key: 'TELEGRAM_WEBHOOK_LISTEN',
    field: 'telegramWebhookListen',
    type: t.hostPort(),
    default: '127.0.0.1:8443',
    doc: 'host:port the webhook server listens on, in webhook mode.',
  },
  {
    key: 'TELEGRAM_WEBHOOK_SECRET',
    field: 'telegramWebhookSecret',
    type: t.matching(/^[A-Za-z0-9_-]{1,256}$/, '1-256 characters of A-Z, a-z, 0-9, _ and -'),
    secret: true,
    doc: 'Secret Telegram sends with every webhook call (default: a new random one at each start).',
  },
  {
    key: 'TELEGRAM_PROGRESS_SECONDS',
    field: 'telegramProgressMs',
    type: t.seconds(),
    default: '5',
    doc: 'How often the status message of a running task is edited with its progress.',
  },
  {
    key: 'KUGETSU_HTTP_LISTEN',
    field: 'httpListen',
    type: t.hostPort(),
    doc: 'host:port the daemon serves the HTTP API on (docs/api.md), e.g. 127.0.0.1:7420; unset: no HTTP server. Tokens from `kugetsu api token create`.',
  },
  {
    key: 'KUGETSU_HTTP_CORS_ORIGIN',
    field: 'httpCorsOrigin',
    type: t.httpUrl(),
    doc: 'The one browser origin (e.g. https://dash.example.com) allowed to call the HTTP API from another site; unset: CORS is off.',
  },
  {
    key: 'KUGETSU_HTTP_RATE_LIMIT',
    field: 'httpRateLimit',
    type: t.wholeNumber({ min: 1, max: 1_000_000 }),
    default: '600',
    doc: 'Requests per minute each HTTP API token may make (bursts up to as many); over it, 429 with Retry-After.',
  },
  {
    key: 'KUGETSU_ATTACHMENT_MAX_MB',
    field: 'attachmentMaxBytes',
    type: t.megabytes(2000),
    default: '20',
    doc: "Largest file (photo, document, voice note) the bot accepts with a task, in MB; Telegram's cloud Bot API serves bots at most 20.",
  },
  {
    key: 'KUGETSU_TRANSCRIBE_URL',
    field: 'transcribeUrl',
    type: t.httpUrl(),
    doc: 'OpenAI-compatible transcription endpoint for Telegram voice notes, e.g. https://api.openai.com/v1/audio/transcriptions (unset: voice notes are refused).',
  },
  {
    key: 'KUGETSU_TRANSCRIBE_MODEL',
    field: 'transcribeModel',
    type: t.matching(/^\S{1,200}$/, 'a model name without spaces'),
    default: 'whisper-1',
    doc: 'Model the transcription endpoint is asked for.',
  },
  {
    key: 'KUGETSU_TRANSCRIBE_API_KEY',
    field: 'transcribeApiKey',
    type: t.matching(/^\S{1,2000}$/, 'a key without spaces'),
    secret: true,
    doc: "Bearer key of the transcription endpoint. kugetsu's own secret: keep it here or in the environment, not in env/*.env (agents get those).",
  },
  {
    key: 'KUGETSU_RETRY_BASE_SECONDS',
    field: 'retryBaseMs',
    type: t.seconds(),
    default: '10',
    doc: 'Delay before the first retry of a failed run; it doubles per attempt, capped at 5 minutes.',
  },
  {
    key: 'KUGETSU_KILL_GRACE_SECONDS',
    field: 'killGraceMs',
    type: t.seconds(),
    default: '10',
    doc: "Stop, timeout and shutdown send SIGTERM to the agent's process group, then SIGKILL after this long.",
  },
] as const satisfies readonly Setting[];

/** kugetsu's own secrets: withheld from agents and scrubbed from everything it writes. */
export const SECRET_SETTINGS: readonly { key: string; field: string }[] = SETTINGS.filter(
  (s) => 'secret' in s && s.secret === true,
);
