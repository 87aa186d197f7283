import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS,
  loadConfig,
  mergeConfigSources,
  parseConfig,
  renderConfigEnv,
} from '../core/config.js';
import { DEFAULT_POLICY_TEXT, parsePolicy } from '../core/approvals/policy.js';
import { parseDotenv } from '../core/dotenv.js';
import { UsageError } from '../core/errors.js';

const DESIGN_KEYS = [
  'MAX_CONCURRENT_AGENTS',
  'KUGETSU_DATABASE_URL',
  'KUGETSU_WORKER_NAME',
  'KUGETSU_GLOBAL_MAX_AGENTS',
  'KUGETSU_WORKER_LEASE_SECONDS',
  'KUGETSU_AGENT',
  'KUGETSU_AGENT_COMMAND',
  'KUGETSU_PM_AGENT',
  'KUGETSU_MODEL',
  'KUGETSU_CLAUDE_PERMISSION_MODE',
  'KUGETSU_CLAUDE_ALLOWED_TOOLS',
  'KUGETSU_CODEX_SANDBOX',
  'KUGETSU_APPROVAL_POLICY',
  'KUGETSU_APPROVAL_TIMEOUT',
  'KUGETSU_TASK_BUDGET',
  'KUGETSU_DAILY_BUDGET',
  'KUGETSU_TASK_TIMEOUT_MINUTES',
  'KUGETSU_STALL_TIMEOUT_MINUTES',
  'KUGETSU_STALL_GRACE_MINUTES',
  'KUGETSU_STALL_EXTEND_MINUTES',
  'KUGETSU_MAX_ATTEMPTS',
  'KUGETSU_MIN_FREE_MEMORY_MB',
  'KUGETSU_TEMP_DIR',
  'KUGETSU_VERBOSITY',
  'QUEUE_DAEMON_INTERVAL_MINUTES',
  'QUEUE_CLEANUP_AGE_DAYS',
  'KUGETSU_INTAKE_INTERVAL_SECONDS',
  'KUGETSU_DEFAULT_SERVER',
  'KUGETSU_DEFAULT_REPO',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_ALLOWED_USERS',
  'TELEGRAM_NOTIFY_CHATS',
  'TELEGRAM_API_ROOT',
  'TELEGRAM_WEBHOOK_URL',
  'TELEGRAM_WEBHOOK_LISTEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'TELEGRAM_PROGRESS_SECONDS',
  'KUGETSU_HTTP_LISTEN',
  'KUGETSU_HTTP_CORS_ORIGIN',
  'KUGETSU_HTTP_RATE_LIMIT',
  'KUGETSU_ATTACHMENT_MAX_MB',
  'KUGETSU_TRANSCRIBE_URL',
  'KUGETSU_TRANSCRIBE_MODEL',
  'KUGETSU_TRANSCRIBE_API_KEY',
  'KUGETSU_RETRY_BASE_SECONDS',
  'KUGETSU_KILL_GRACE_SECONDS',
];

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseConfig', () => {
  it('applies every default', () => {
    expect(parseConfig({})).toEqual({
      maxConcurrentAgents: 3,
      databaseUrl: undefined,
      workerName: undefined,
      globalMaxAgents: undefined,
      workerLeaseMs: 30_000,
      agent: 'opencode',
      agentCommand: undefined,
      pmAgent: 'opencode',
      model: undefined,
      claudePermissionMode: null,
      claudeAllowedTools: [
        'Bash(git add:*)',
        'Bash(git commit:*)',
        'Bash(git status:*)',
        'Bash(git diff:*)',
        'Bash(git log:*)',
      ],
      codexSandbox: 'workspace-write',
      approvalPolicy: parsePolicy(DEFAULT_POLICY_TEXT),
      approvalTimeoutMs: 30 * 60_000,
      stallGraceMs: 5 * 60_000,
      stallExtendMs: 10 * 60_000,
      taskTokenBudget: null,
      dailyTokenBudget: null,
      taskTimeoutMs: 60 * 60_000,
      stallTimeoutMs: 10 * 60_000,
      maxAttempts: 3,
      minFreeMemoryMb: 512,
      tempDir: undefined,
      verbosity: 'default',
      sweepIntervalMs: 5 * 60_000,
      cleanupAgeMs: 7 * 86_400_000,
      intakeIntervalMs: 60_000,
      defaultServer: undefined,
      defaultRepo: undefined,
      telegramBotToken: undefined,
      telegramAllowedUsers: [],
      telegramNotifyChats: [],
      telegramApiRoot: 'https://api.telegram.org',
      telegramWebhookUrl: undefined,
      telegramWebhookListen: { host: '127.0.0.1', port: 8443 },
      telegramWebhookSecret: undefined,
      telegramProgressMs: 5_000,
      httpListen: undefined,
      httpCorsOrigin: undefined,
      httpRateLimit: 600,
      attachmentMaxBytes: 20 * 1024 * 1024,
      transcribeUrl: undefined,
      transcribeModel: 'whisper-1',
      transcribeApiKey: undefined,
      retryBaseMs: 10_000,
      killGraceMs: 10_000,
    });
  });

  it('parses every key', () => {
    const config = parseConfig({
      MAX_CONCURRENT_AGENTS: '8',
      KUGETSU_DATABASE_URL: 'postgres://kugetsu:pw@db.internal:5432/kugetsu',
      KUGETSU_WORKER_NAME: 'build-box.2',
      KUGETSU_GLOBAL_MAX_AGENTS: '12',
      KUGETSU_WORKER_LEASE_SECONDS: '3',
      KUGETSU_AGENT: 'claude',
      KUGETSU_AGENT_COMMAND: 'my-agent --flag "$KUGETSU_MESSAGE"',
      KUGETSU_PM_AGENT: 'codex',
      KUGETSU_MODEL: 'anthropic/claude-sonnet-4',
      KUGETSU_CLAUDE_PERMISSION_MODE: 'default',
      KUGETSU_CLAUDE_ALLOWED_TOOLS: 'Bash(npm test:*), Edit',
      KUGETSU_CODEX_SANDBOX: 'danger-full-access',
      KUGETSU_APPROVAL_POLICY: 'bash=allow, claude:network=deny',
      KUGETSU_APPROVAL_TIMEOUT: '90s',
      KUGETSU_STALL_GRACE_MINUTES: '0.5',
      KUGETSU_STALL_EXTEND_MINUTES: '2',
      KUGETSU_TASK_BUDGET: '500000',
      KUGETSU_DAILY_BUDGET: '2000000',
      KUGETSU_TASK_TIMEOUT_MINUTES: '0.5',
      KUGETSU_STALL_TIMEOUT_MINUTES: '.25',
      KUGETSU_MAX_ATTEMPTS: '1',
      KUGETSU_MIN_FREE_MEMORY_MB: '0',
      KUGETSU_TEMP_DIR: '/var/tmp/kugetsu',
      KUGETSU_VERBOSITY: 'quiet',
      QUEUE_DAEMON_INTERVAL_MINUTES: '1',
      QUEUE_CLEANUP_AGE_DAYS: '0.5',
      KUGETSU_INTAKE_INTERVAL_SECONDS: '2.5',
      KUGETSU_DEFAULT_SERVER: 'local',
      KUGETSU_DEFAULT_REPO: 'me/app',
      TELEGRAM_BOT_TOKEN: '123456:AAE-bot_token',
      TELEGRAM_ALLOWED_USERS: '12, 34,56,',
      TELEGRAM_NOTIFY_CHATS: '-1001234567890,42',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/hook',
      TELEGRAM_WEBHOOK_LISTEN: '[::1]:9000',
      TELEGRAM_WEBHOOK_SECRET: 'abc_DEF-123',
      TELEGRAM_PROGRESS_SECONDS: '2.5',
      KUGETSU_HTTP_LISTEN: '0.0.0.0:7420',
      KUGETSU_HTTP_CORS_ORIGIN: 'https://dash.example/',
      KUGETSU_HTTP_RATE_LIMIT: '30',
      KUGETSU_ATTACHMENT_MAX_MB: '5',
      KUGETSU_TRANSCRIBE_URL: 'http://127.0.0.1:9000/v1/audio/transcriptions',
      KUGETSU_TRANSCRIBE_MODEL: 'whisper-large-v3',
      KUGETSU_TRANSCRIBE_API_KEY: 'sk-transcribe-123',
      KUGETSU_RETRY_BASE_SECONDS: '0.2',
      KUGETSU_KILL_GRACE_SECONDS: '1',
    });
    expect(config).toEqual({
      maxConcurrentAgents: 8,
      databaseUrl: 'postgres://kugetsu:pw@db.internal:5432/kugetsu',
      workerName: 'build-box.2',
      globalMaxAgents: 12,
      workerLeaseMs: 3_000,
      agent: 'claude',
      agentCommand: 'my-agent --flag "$KUGETSU_MESSAGE"',
      pmAgent: 'codex',
      model: 'anthropic/claude-sonnet-4',
      claudePermissionMode: 'default',
      claudeAllowedTools: ['Bash(npm test:*)', 'Edit'],
      codexSandbox: 'danger-full-access',
      approvalPolicy: {
        rules: [
          { agent: null, category: 'bash', action: 'allow' },
          { agent: 'claude', category: 'network', action: 'deny' },
        ],
      },
      approvalTimeoutMs: 90_000,
      stallGraceMs: 30_000,
      stallExtendMs: 120_000,
      taskTokenBudget: 500000,
      dailyTokenBudget: 2000000,
      taskTimeoutMs: 30_000,
      stallTimeoutMs: 15_000,
      maxAttempts: 1,
      minFreeMemoryMb: 0,
      tempDir: '/var/tmp/kugetsu',
      verbosity: 'quiet',
      sweepIntervalMs: 60_000,
      cleanupAgeMs: 43_200_000,
      intakeIntervalMs: 2_500,
      defaultServer: 'local',
      defaultRepo: 'me/app',
      telegramBotToken: '123456:AAE-bot_token',
      telegramAllowedUsers: [12, 34, 56],
      telegramNotifyChats: [-1001234567890, 42],
      telegramApiRoot: 'http://127.0.0.1:8081',
      telegramWebhookUrl: 'https://bot.example.com/hook',
      telegramWebhookListen: { host: '::1', port: 9000 },
      telegramWebhookSecret: 'abc_DEF-123',
      telegramProgressMs: 2_500,
      httpListen: { host: '0.0.0.0', port: 7420 },
      httpCorsOrigin: 'https://dash.example',
      httpRateLimit: 30,
      attachmentMaxBytes: 5 * 1024 * 1024,
      transcribeUrl: 'http://127.0.0.1:9000/v1/audio/transcriptions',
      transcribeModel: 'whisper-large-v3',
      transcribeApiKey: 'sk-transcribe-123',
      retryBaseMs: 200,
      killGraceMs: 1000,
    });
  });

  it('defaults KUGETSU_PM_AGENT to the resolved KUGETSU_AGENT', () => {
    expect(parseConfig({ KUGETSU_AGENT: 'command' }).pmAgent).toBe('command');
    expect(parseConfig({ KUGETSU_AGENT: 'command', KUGETSU_PM_AGENT: '' }).pmAgent).toBe('command');
    expect(parseConfig({ KUGETSU_AGENT: 'command', KUGETSU_PM_AGENT: 'claude' }).pmAgent).toBe(
      'claude',
    );
  });

  it('treats empty and blank values as unset', () => {
    const config = parseConfig({
      MAX_CONCURRENT_AGENTS: '',
      KUGETSU_AGENT: '  ',
      KUGETSU_AGENT_COMMAND: '',
      TELEGRAM_BOT_TOKEN: '',
      TELEGRAM_ALLOWED_USERS: '',
      TELEGRAM_API_ROOT: '',
    });
    expect(config.maxConcurrentAgents).toBe(3);
    expect(config.agent).toBe('opencode');
    expect(config.agentCommand).toBeUndefined();
    expect(config.telegramBotToken).toBeUndefined();
    expect(config.telegramAllowedUsers).toEqual([]);
    expect(config.telegramApiRoot).toBe('https://api.telegram.org');
  });

  it('trims surrounding whitespace', () => {
    expect(parseConfig({ MAX_CONCURRENT_AGENTS: ' 5 ' }).maxConcurrentAgents).toBe(5);
  });

  it('ignores unknown keys', () => {
    expect(parseConfig({ PATH: '/bin', SOMETHING_ELSE: 'x', KUGETSU_NOPE: '!' })).toEqual(
      parseConfig({}),
    );
  });

  it('never turns a tiny timeout into zero', () => {
    expect(parseConfig({ KUGETSU_TASK_TIMEOUT_MINUTES: '0.000000001' }).taskTimeoutMs).toBe(1);
  });

  it('accepts the largest timeout that still fits a Node timer', () => {
    expect(parseConfig({ KUGETSU_TASK_TIMEOUT_MINUTES: '35791' }).taskTimeoutMs).toBeLessThan(
      2 ** 31,
    );
  });

  it.each([
    ['MAX_CONCURRENT_AGENTS', 'lots'],
    ['MAX_CONCURRENT_AGENTS', '0'],
    ['MAX_CONCURRENT_AGENTS', '65'],
    ['MAX_CONCURRENT_AGENTS', '2.5'],
    ['MAX_CONCURRENT_AGENTS', '-1'],
    ['MAX_CONCURRENT_AGENTS', '0x10'],
    ['MAX_CONCURRENT_AGENTS', '1e1'],
    ['KUGETSU_AGENT', 'skynet'],
    ['KUGETSU_AGENT', 'Claude'],
    ['KUGETSU_WORKER_NAME', 'two words'],
    ['KUGETSU_GLOBAL_MAX_AGENTS', '0'],
    ['KUGETSU_WORKER_LEASE_SECONDS', '0'],
    ['KUGETSU_PM_AGENT', 'gpt'],
    ['KUGETSU_MODEL', 'two words'],
    ['KUGETSU_CLAUDE_PERMISSION_MODE', 'yolo'],
    ['KUGETSU_CLAUDE_ALLOWED_TOOLS', 'Bash(rm -rf /'],
    ['KUGETSU_CODEX_SANDBOX', 'none'],
    ['KUGETSU_APPROVAL_POLICY', 'bash=yes'],
    ['KUGETSU_APPROVAL_POLICY', 'question=allow'],
    ['KUGETSU_APPROVAL_TIMEOUT', '0'],
    ['KUGETSU_APPROVAL_TIMEOUT', '10d'],
    ['KUGETSU_APPROVAL_TIMEOUT', '1e3'],
    ['KUGETSU_STALL_GRACE_MINUTES', '0'],
    ['KUGETSU_STALL_EXTEND_MINUTES', 'ten'],
    ['KUGETSU_TASK_BUDGET', '-5'],
    ['KUGETSU_DAILY_BUDGET', '1e6'],
    ['KUGETSU_TASK_TIMEOUT_MINUTES', '-5'],
    ['KUGETSU_TASK_TIMEOUT_MINUTES', '0'],
    ['KUGETSU_TASK_TIMEOUT_MINUTES', 'Infinity'],
    ['KUGETSU_TASK_TIMEOUT_MINUTES', 'NaN'],
    ['KUGETSU_TASK_TIMEOUT_MINUTES', '100000'],
    ['KUGETSU_TASK_TIMEOUT_MINUTES', '1h'],
    ['KUGETSU_STALL_TIMEOUT_MINUTES', '0.0'],
    ['KUGETSU_MAX_ATTEMPTS', '0'],
    ['KUGETSU_MAX_ATTEMPTS', '1.5'],
    ['KUGETSU_MIN_FREE_MEMORY_MB', '-1'],
    ['KUGETSU_MIN_FREE_MEMORY_MB', '512MB'],
    ['KUGETSU_TEMP_DIR', 'relative/tmp'],
    ['KUGETSU_VERBOSITY', 'loud'],
    ['QUEUE_DAEMON_INTERVAL_MINUTES', '0'],
    ['QUEUE_CLEANUP_AGE_DAYS', 'forever'],
    ['KUGETSU_INTAKE_INTERVAL_SECONDS', '0'],
    ['KUGETSU_DEFAULT_REPO', 'host/../etc'],
    ['KUGETSU_DEFAULT_REPO', 'app'],
    ['TELEGRAM_ALLOWED_USERS', '12,abc'],
    ['TELEGRAM_ALLOWED_USERS', '-5'],
    ['TELEGRAM_ALLOWED_USERS', '1.5'],
    ['TELEGRAM_NOTIFY_CHATS', '12;34'],
    ['TELEGRAM_API_ROOT', 'ftp://api.telegram.org'],
    ['TELEGRAM_API_ROOT', 'not a url'],
    ['KUGETSU_RETRY_BASE_SECONDS', '0'],
    ['KUGETSU_KILL_GRACE_SECONDS', 'soon'],
  ])('rejects %s=%j in one line naming key and value', (key, value) => {
    const err = usageError(() => parseConfig({ [key]: value }));
    expect(err.message).toContain(`invalid ${key}=${JSON.stringify(value)}: expected `);
    expect(err.message).not.toContain('\n');
  });

  it('reports the first bad key in config order', () => {
    const err = usageError(() =>
      parseConfig({ KUGETSU_VERBOSITY: 'loud', MAX_CONCURRENT_AGENTS: 'lots' }),
    );
    expect(err.message).toMatch(/^invalid MAX_CONCURRENT_AGENTS=/);
  });

  it('says what is expected', () => {
    expect(usageError(() => parseConfig({ KUGETSU_AGENT: 'skynet' })).message).toBe(
      'invalid KUGETSU_AGENT="skynet": expected one of opencode, claude, codex, command',
    );
  });

  it('truncates a huge value in the message', () => {
    const err = usageError(() => parseConfig({ KUGETSU_VERBOSITY: 'x'.repeat(1024 * 1024) }));
    expect(err.message.length).toBeLessThan(300);
  });

  it('never echoes the bot token', () => {
    const token = 'not-a-valid-token-s3cr3t value';
    const err = usageError(() => parseConfig({ TELEGRAM_BOT_TOKEN: token }));
    expect(err.message).toContain('TELEGRAM_BOT_TOKEN');
    expect(err.message).not.toContain('s3cr3t');
    expect(err.message).not.toContain(token);
  });
});

describe('mergeConfigSources', () => {
  it('prefers the process environment over the file', () => {
    const merged = mergeConfigSources(
      { MAX_CONCURRENT_AGENTS: '7' },
      { MAX_CONCURRENT_AGENTS: '2', KUGETSU_AGENT: 'codex' },
    );
    expect(merged['MAX_CONCURRENT_AGENTS']).toBe('7');
    expect(merged['KUGETSU_AGENT']).toBe('codex');
  });

  it('ignores empty values at either level', () => {
    const merged = mergeConfigSources(
      { MAX_CONCURRENT_AGENTS: '', KUGETSU_AGENT: 'claude' },
      { MAX_CONCURRENT_AGENTS: '2', KUGETSU_AGENT: '' },
    );
    expect(merged['MAX_CONCURRENT_AGENTS']).toBe('2');
    expect(merged['KUGETSU_AGENT']).toBe('claude');
    expect(mergeConfigSources({ KUGETSU_MODEL: '' }, { KUGETSU_MODEL: '' })['KUGETSU_MODEL']).toBe(
      undefined,
    );
  });

  it('does not touch its inputs', () => {
    const env = { KUGETSU_AGENT: 'claude' };
    const file = { KUGETSU_AGENT: 'codex' };
    mergeConfigSources(env, file);
    expect(env).toEqual({ KUGETSU_AGENT: 'claude' });
    expect(file).toEqual({ KUGETSU_AGENT: 'codex' });
  });
});

describe('KUGETSU_DATABASE_URL', () => {
  it('refuses what is no PostgreSQL URL without echoing it, since it may hold a password', () => {
    for (const url of ['mysql://u:hunter22@db/kugetsu', 'postgres://u:hunter22@db.internal']) {
      const err = (() => {
        try {
          parseConfig({ KUGETSU_DATABASE_URL: url });
        } catch (e) {
          return e as Error;
        }
        throw new Error(`${url} was accepted`);
      })();
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe(
        'invalid KUGETSU_DATABASE_URL (value not shown): expected a postgres://user:password@host:port/database URL',
      );
    }
  });
});

describe('CONFIG_KEYS and renderConfigEnv', () => {
  it('describes every key of the design, each with help', () => {
    expect(CONFIG_KEYS.map((k) => k.key).sort()).toEqual([...DESIGN_KEYS].sort());
    for (const { help } of CONFIG_KEYS) expect(help.length).toBeGreaterThan(10);
  });

  it('lists defaults that parse to the built-in defaults', () => {
    const fromDefaults = Object.fromEntries(CONFIG_KEYS.map((k) => [k.key, k.default]));
    expect(parseConfig(fromDefaults)).toEqual(parseConfig({}));
  });

  it('comments out every key, preceded by its help', () => {
    const text = renderConfigEnv();
    const lines = text.split('\n');
    for (const { key, default: fallback, help } of CONFIG_KEYS) {
      const at = lines.indexOf(`# ${key}=${fallback}`);
      expect(at).toBeGreaterThan(0);
      expect(lines[at - 1]).toBe(`# ${help}`);
    }
    expect(text).toMatch(/environment.*this file.*defaults/);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('sets nothing as written', () => {
    expect(parseDotenv(renderConfigEnv())).toEqual({});
  });

  it('parses to the defaults once every line is uncommented', () => {
    const uncommented = renderConfigEnv().replace(/^# ([A-Z_]+=)/gm, '$1');
    const values = parseDotenv(uncommented);
    expect(Object.keys(values).sort()).toEqual([...DESIGN_KEYS].sort());
    expect(parseConfig(values)).toEqual(parseConfig({}));
  });
});

describe('loadConfig', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function home(configEnv?: string): string {
    dir = mkdtempSync(join(tmpdir(), 'kgt-config-'));
    if (configEnv !== undefined) writeFileSync(join(dir, 'config.env'), configEnv);
    return dir;
  }

  it('uses defaults without a config.env', () => {
    expect(loadConfig(home(), {})).toEqual(parseConfig({}));
  });

  it('reads config.env, below the process environment', () => {
    const root = home('MAX_CONCURRENT_AGENTS=5\nKUGETSU_AGENT=claude\n# KUGETSU_MAX_ATTEMPTS=9');
    const config = loadConfig(root, { MAX_CONCURRENT_AGENTS: '2', KUGETSU_AGENT: '' });
    expect(config.maxConcurrentAgents).toBe(2);
    expect(config.agent).toBe('claude');
    expect(config.maxAttempts).toBe(3);
  });

  it('accepts the config.env that init writes', () => {
    expect(loadConfig(home(renderConfigEnv()), {})).toEqual(parseConfig({}));
  });

  it('reports a bad value from config.env with key and value', () => {
    const root = home('KUGETSU_VERBOSITY=loud\n');
    expect(() => loadConfig(root, {})).toThrow('invalid KUGETSU_VERBOSITY="loud"');
  });
});

describe('.env.example', () => {
  it('is exactly what `kugetsu init` writes to config.env, so it lists every setting', async () => {
    const { readFileSync } = await import('node:fs');
    const { renderConfigEnv, CONFIG_KEYS } = await import('../core/config.js');
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    expect(example).toBe(renderConfigEnv());
    for (const { key } of CONFIG_KEYS) expect(example).toMatch(new RegExp(`^# ${key}=`, 'm'));
  });
});
