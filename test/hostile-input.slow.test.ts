/**
 * Hostile and bad input through the real CLI: a clear one-line error, exit 2, and the store
 * exactly as it was. Shell metacharacters in messages reach the agent as data, never as code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, fixture } from './helpers/sandbox.js';

describe('hostile input', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh') });
    await sb.setup();
  });
  afterEach(async () => {
    await sb.cli(['daemon', 'stop']);
  });

  async function expectUsageError(
    args: string[],
    mention: string | RegExp,
    env: Record<string, string> = {},
    input?: string,
  ): Promise<void> {
    const before = sb.stateSnapshot();
    const result = await sb.cli(args, input === undefined ? { env } : { env, input });
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kugetsu: /);
    expect(lines[0]).toMatch(mention);
    expect(lines[0]?.length ?? 0).toBeLessThan(400);
    expect(sb.stateSnapshot()).toBe(before);
  }

  it.each([
    ['local/../etc#1'],
    ['local/me/..#1'],
    ['local/me/app#0'],
    ['local/me/app#-1'],
    ['../../../../etc/passwd'],
    ['local/me/app#1; rm -rf /'],
    ['$(touch /tmp/kugetsu-pwned)#1'],
    ['local/me/app'],
    [''],
  ])('rejects the ref %j', async (ref) => {
    await expectUsageError(['start', ref, 'hello'], /invalid issue ref/);
  });

  it('rejects a ref whose host names no server', async () => {
    await expectUsageError(
      ['start', 'evil.example.com/me/app#1', 'hello'],
      /no server for host "evil.example.com"/,
    );
  });

  it('rejects a 1 MB message on stdin and a 100 KB one in argv', async () => {
    const mb = 1024 * 1024;
    await expectUsageError(
      ['start', 'local/me/app#1', '-'],
      /message is 1048576 bytes, over the 65536-byte limit/,
      {},
      'x'.repeat(mb),
    );
    await expectUsageError(
      ['delegate', '-'],
      /message is 1048576 bytes/,
      {},
      `local/me/app#1 ${'y'.repeat(mb - 15)}`,
    );
    await expectUsageError(
      ['start', 'local/me/app#1', 'z'.repeat(100_000)],
      /message is 100000 bytes/,
    );
  });

  it.each([
    [{ MAX_CONCURRENT_AGENTS: 'lots' }, /MAX_CONCURRENT_AGENTS="lots"/],
    [{ MAX_CONCURRENT_AGENTS: '0' }, /MAX_CONCURRENT_AGENTS="0"/],
    [{ KUGETSU_AGENT: 'skynet' }, /KUGETSU_AGENT="skynet"/],
    [{ KUGETSU_TASK_TIMEOUT_MINUTES: '-5' }, /KUGETSU_TASK_TIMEOUT_MINUTES="-5"/],
    [{ TELEGRAM_ALLOWED_USERS: '12,abc' }, /TELEGRAM_ALLOWED_USERS/],
  ])('rejects bad config %j', async (env, mention) => {
    await expectUsageError(['list'], mention, env);
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['queue', 'explode'], /unknown subcommand "explode"/],
    [['list', '--everything'], /unknown option "--everything"/],
    [['queue', 'cancel', '1; drop table tasks'], /invalid task id/],
    [['env', 'set', 'BAD KEY', 'v'], /BAD KEY/],
    [['server', 'add', 'x', 'ftp://host'], /invalid server URL/],
    [['server', 'add', 'x', 'https://user:pw@host'], /must not carry credentials/],
    [['intake', 'add', '../../etc'], /invalid repository "..\/..\/etc"/],
    [['intake', 'add', 'local/me/app'], /server local is plain git: intake needs a forge/],
    [['intake', 'add', 'me/app', '--mention', '@a b'], /invalid --mention "@a b"/],
    [['intake', 'remove', 'nobody.example/me/app'], /no server for host "nobody.example"/],
  ])('rejects %j', async (args, mention) => {
    await expectUsageError(args, mention);
  });

  it('passes shell metacharacters to the agent as plain text', async () => {
    const canary = join(sb.dir, 'pwned');
    const message = `$(touch ${canary}) \`touch ${canary}\`; touch ${canary} && echo "'"`;
    const result = await sb.cli(['start', 'local/me/app#21', message]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`stdin: ${message}`);
    expect(result.stdout).toContain(`env message: ${message}`);
    expect(existsSync(canary)).toBe(false);
  });
});
