/**
 * Settings (DESIGN.md §1): process environment over `config.env` over defaults, validated
 * with zod at start. A bad value is a one-line UsageError naming the key and the value.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AGENT_NAMES, type AgentName } from './domain.js';
import { parseDotenv } from './dotenv.js';
import { UsageError, quote } from './errors.js';
import { isSecretKey } from './secrets.js';

export interface Config {
  maxConcurrentAgents: number;
  agent: AgentName;
  agentCommand: string | undefined;
  pmAgent: AgentName;
  model: string | undefined;
  taskTimeoutMs: number;
  stallTimeoutMs: number;
  maxAttempts: number;
  minFreeMemoryMb: number;
  tempDir: string | undefined;
  verbosity: 'verbose' | 'default' | 'quiet';
  sweepIntervalMs: number;
  cleanupAgeMs: number;
  defaultServer: string | undefined;
  defaultRepo: string | undefined;
  telegramBotToken: string | undefined;
  telegramAllowedUsers: number[];
  telegramNotifyChats: number[];
  telegramApiRoot: string;
  retryBaseMs: number;
  killGraceMs: number;
}

interface KeySpec {
  key: string;
  /** Shown in config.env and .env.example; '' for keys without a default. */
  default: string;
  help: string;
  schema: z.ZodType;
  expected: string;
}

const positiveNumber = z.coerce.number().finite().positive();
const idList = (signed: boolean) =>
  z
    .string()
    .regex(signed ? /^\s*-?[0-9]+(\s*,\s*-?[0-9]+)*\s*$/ : /^\s*[0-9]+(\s*,\s*[0-9]+)*\s*$/)
    .transform((s) => s.split(',').map((part) => Number(part.trim())));

const KEYS: readonly KeySpec[] = [
  {
    key: 'MAX_CONCURRENT_AGENTS',
    default: '3',
    help: 'Most dev agents alive at once for this home, across every process.',
    schema: z.coerce.number().int().min(1).max(64),
    expected: 'a whole number from 1 to 64',
  },
  {
    key: 'KUGETSU_AGENT',
    default: 'opencode',
    help: `Agent backend: ${AGENT_NAMES.join(', ')}.`,
    schema: z.enum(AGENT_NAMES),
    expected: `one of ${AGENT_NAMES.join(', ')}`,
  },
  {
    key: 'KUGETSU_AGENT_COMMAND',
    default: '',
    help: 'For KUGETSU_AGENT=command: run by `sh -c` in the worktree; the prompt arrives on stdin and in KUGETSU_MESSAGE.',
    schema: z.string(),
    expected: 'a command',
  },
  {
    key: 'KUGETSU_PM_AGENT',
    default: '',
    help: 'Agent backend of the PM agent (default: KUGETSU_AGENT).',
    schema: z.enum(AGENT_NAMES),
    expected: `one of ${AGENT_NAMES.join(', ')}`,
  },
  {
    key: 'KUGETSU_MODEL',
    default: '',
    help: 'Model for every backend (default: the agent’s own choice).',
    schema: z.string(),
    expected: 'a model name',
  },
  {
    key: 'KUGETSU_TASK_TIMEOUT_MINUTES',
    default: '60',
    help: 'A run longer than this is killed and counts as a failed attempt.',
    schema: positiveNumber,
    expected: 'a positive number of minutes',
  },
  {
    key: 'KUGETSU_STALL_TIMEOUT_MINUTES',
    default: '10',
    help: 'A run with no output for this long is stalled: killed, a failed attempt.',
    schema: positiveNumber,
    expected: 'a positive number of minutes',
  },
  {
    key: 'KUGETSU_MAX_ATTEMPTS',
    default: '3',
    help: 'Attempts per task before it ends in error (retries back off 10 s, doubling, up to 5 min).',
    schema: z.coerce.number().int().min(1).max(100),
    expected: 'a whole number from 1 to 100',
  },
  {
    key: 'KUGETSU_MIN_FREE_MEMORY_MB',
    default: '512',
    help: 'No agent starts while less memory than this is available; its task waits.',
    schema: z.coerce.number().int().min(0),
    expected: 'a whole number of MB, 0 or more',
  },
  {
    key: 'KUGETSU_TEMP_DIR',
    default: '',
    help: 'Directory for temporary files (default: the system temp dir).',
    schema: z.string(),
    expected: 'a directory path',
  },
  {
    key: 'KUGETSU_VERBOSITY',
    default: 'default',
    help: 'verbose, default or quiet.',
    schema: z.enum(['verbose', 'default', 'quiet']),
    expected: 'verbose, default or quiet',
  },
  {
    key: 'QUEUE_DAEMON_INTERVAL_MINUTES',
    default: '5',
    help: 'Fallback sweep interval; dispatch itself is event-driven (milliseconds).',
    schema: positiveNumber,
    expected: 'a positive number of minutes',
  },
  {
    key: 'QUEUE_CLEANUP_AGE_DAYS',
    default: '7',
    help: 'Finished tasks older than this are deleted by the sweep.',
    schema: positiveNumber,
    expected: 'a positive number of days',
  },
  {
    key: 'KUGETSU_DEFAULT_SERVER',
    default: '',
    help: 'Server name used for owner/repo#N refs (default: the one marked by `server default`).',
    schema: z.string(),
    expected: 'a server name',
  },
  {
    key: 'KUGETSU_DEFAULT_REPO',
    default: '',
    help: 'Repository used for #N refs: host/owner/repo or owner/repo.',
    schema: z.string(),
    expected: 'host/owner/repo or owner/repo',
  },
  {
    key: 'TELEGRAM_BOT_TOKEN',
    default: '',
    help: 'Token from @BotFather; the daemon runs the bot when it is set. Never passed to agents.',
    schema: z.string().regex(/^[0-9]+:[A-Za-z0-9_-]+$/),
    expected: 'a token of the form 123456:ABC-def',
  },
  {
    key: 'TELEGRAM_ALLOWED_USERS',
    default: '',
    help: 'Comma-separated Telegram user ids allowed to use the bot (empty: nobody).',
    schema: idList(false),
    expected: 'comma-separated user ids',
  },
  {
    key: 'TELEGRAM_NOTIFY_CHATS',
    default: '',
    help: 'Comma-separated chat ids that receive notifications.',
    schema: idList(true),
    expected: 'comma-separated chat ids',
  },
  {
    key: 'TELEGRAM_API_ROOT',
    default: 'https://api.telegram.org',
    help: 'Bot API root (a local Bot API server, or a test server).',
    schema: z.url({ protocol: /^https?$/ }),
    expected: 'an http(s) URL',
  },
  {
    key: 'KUGETSU_RETRY_BASE_SECONDS',
    default: '10',
    help: 'First retry delay; it doubles per attempt up to 5 minutes.',
    schema: positiveNumber,
    expected: 'a positive number of seconds',
  },
  {
    key: 'KUGETSU_KILL_GRACE_SECONDS',
    default: '10',
    help: 'Stop, timeout and shutdown send SIGTERM, then SIGKILL after this long.',
    schema: positiveNumber,
    expected: 'a positive number of seconds',
  },
];

/** Every setting, for config.env, .env.example and the docs. */
export const CONFIG_KEYS: ReadonlyArray<{ key: string; default: string; help: string }> = KEYS.map(
  ({ key, default: def, help }) => ({ key, default: def, help }),
);

/** Parses raw settings (already merged by precedence). Pure. */
export function parseConfig(raw: Record<string, string | undefined>): Config {
  const values = new Map<string, unknown>();
  for (const spec of KEYS) {
    const given = raw[spec.key];
    const text = given === undefined || given.trim() === '' ? undefined : given.trim();
    const input = text ?? (spec.default === '' ? undefined : spec.default);
    if (input === undefined) continue;
    const parsed = spec.schema.safeParse(input);
    if (!parsed.success) {
      const shown = isSecretKey(spec.key) ? '' : `=${quote(input)}`;
      throw new UsageError(`invalid ${spec.key}${shown}: expected ${spec.expected}`);
    }
    values.set(spec.key, parsed.data);
  }
  const get = <T>(key: string): T => values.get(key) as T;
  const agent = get<AgentName>('KUGETSU_AGENT');
  return {
    maxConcurrentAgents: get('MAX_CONCURRENT_AGENTS'),
    agent,
    agentCommand: get('KUGETSU_AGENT_COMMAND'),
    pmAgent: get<AgentName | undefined>('KUGETSU_PM_AGENT') ?? agent,
    model: get('KUGETSU_MODEL'),
    taskTimeoutMs: get<number>('KUGETSU_TASK_TIMEOUT_MINUTES') * 60_000,
    stallTimeoutMs: get<number>('KUGETSU_STALL_TIMEOUT_MINUTES') * 60_000,
    maxAttempts: get('KUGETSU_MAX_ATTEMPTS'),
    minFreeMemoryMb: get('KUGETSU_MIN_FREE_MEMORY_MB'),
    tempDir: get('KUGETSU_TEMP_DIR'),
    verbosity: get('KUGETSU_VERBOSITY'),
    sweepIntervalMs: get<number>('QUEUE_DAEMON_INTERVAL_MINUTES') * 60_000,
    cleanupAgeMs: get<number>('QUEUE_CLEANUP_AGE_DAYS') * 86_400_000,
    defaultServer: get('KUGETSU_DEFAULT_SERVER'),
    defaultRepo: get('KUGETSU_DEFAULT_REPO'),
    telegramBotToken: get('TELEGRAM_BOT_TOKEN'),
    telegramAllowedUsers: get<number[] | undefined>('TELEGRAM_ALLOWED_USERS') ?? [],
    telegramNotifyChats: get<number[] | undefined>('TELEGRAM_NOTIFY_CHATS') ?? [],
    telegramApiRoot: get<string>('TELEGRAM_API_ROOT').replace(/\/+$/, ''),
    retryBaseMs: get<number>('KUGETSU_RETRY_BASE_SECONDS') * 1000,
    killGraceMs: get<number>('KUGETSU_KILL_GRACE_SECONDS') * 1000,
  };
}

/** Precedence: the process environment wins over config.env; empty values count as unset. */
export function mergeConfigSources(
  processEnv: Record<string, string | undefined>,
  fileValues: Record<string, string>,
): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = {};
  for (const { key } of KEYS) {
    const fromEnv = processEnv[key];
    const fromFile = fileValues[key];
    merged[key] =
      fromEnv !== undefined && fromEnv !== '' ? fromEnv : fromFile !== '' ? fromFile : undefined;
  }
  return merged;
}

export function loadConfig(
  home: string,
  processEnv: Record<string, string | undefined> = process.env,
): Config {
  const file = join(home, 'config.env');
  const fileValues = existsSync(file) ? parseDotenv(readFileSync(file, 'utf8')) : {};
  return parseConfig(mergeConfigSources(processEnv, fileValues));
}

/** The text of a fresh config.env (and .env.example): every key, commented out, with help. */
export function renderConfigEnv(): string {
  const header = [
    '# kugetsu settings. Precedence: process environment > this file > built-in defaults.',
    '# Uncomment a line to change it. Agent secrets belong in env/*.env (`kugetsu env set`).',
    '',
  ];
  const body = KEYS.flatMap(({ key, default: def, help }) => [`# ${help}`, `# ${key}=${def}`, '']);
  return [...header, ...body].join('\n');
}
