/** A token set with `env set` never shows in `env show`, `logs`, transcripts or events. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, fixture } from './helpers/sandbox.js';

const TOKEN = 'tok_9f8e7d6c5b4a39281706';
const BOT_TOKEN = '123456:AAEbottokenbottokenbottoken';

describe('secret masking', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      // kugetsu's own secrets in its environment: agents must not inherit them.
      TELEGRAM_WEBHOOK_SECRET: 'webhook_Secret-31415926',
      KUGETSU_TRANSCRIBE_API_KEY: 'sk-transcribe-27182818',
    });
    await sb.setup();
    // Read from stdin, so the token is not even in this process list.
    await sb.ok(['env', 'set', 'API_TOKEN', '-'], { input: `${TOKEN}\n` });
    await sb.ok(['start', 'local/me/app#1', `use ${TOKEN} carefully`]);
  });
  afterAll(() => sb.cleanup());

  it('stores env files with mode 0600', () => {
    expect(statSync(join(sb.home, 'env', 'default.env')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(sb.home, 'env', 'default.env'), 'utf8')).toContain(TOKEN);
  });

  it('masks the value in env show and env get', async () => {
    const show = await sb.ok(['env', 'show']);
    expect(show).toContain('API_TOKEN=***MASKED***');
    expect(await sb.ok(['env', 'get', 'API_TOKEN'])).toBe('***MASKED***\n');
    expect(await sb.ok(['env', 'show', '--json'])).not.toContain(TOKEN);
  });

  it("gives the agent the env-file token but none of kugetsu's own secrets", async () => {
    const out = await sb.ok(['logs', '1']);
    expect(out).toContain('secret=***MASKED***');
    expect(out).toContain('telegram-token=absent');
    expect(out).toContain('webhook-secret=absent transcribe-key=absent');
  });

  it('never writes the token into transcripts, logs, events or command output', async () => {
    const outputs = [
      await sb.ok(['logs', '1']),
      await sb.ok(['logs', '1', '--json']),
      await sb.ok(['notify', 'list', '--all', '--json']),
      await sb.ok(['queue', 'list', '--all', '--json']),
      await sb.ok(['daemon', 'logs', '-n', '500']),
    ];
    const logsDir = join(sb.home, 'logs');
    const files = [
      join(logsDir, 'daemon.log'),
      ...readdirSync(join(logsDir, 'tasks')).map((f) => join(logsDir, 'tasks', f)),
    ];
    for (const text of [...outputs, ...files.map((f) => readFileSync(f, 'utf8'))]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(BOT_TOKEN);
    }
    expect(outputs[0]).toContain('stdin: use ***MASKED*** carefully');
  });
});
