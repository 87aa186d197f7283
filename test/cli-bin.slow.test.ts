/**
 * The shipped bin (package.json's `bin`, the CommonJS bundle of src/cli/bin.ts): `list` runs
 * from the bundle, every other command line is handed to main.js. Both must behave exactly as
 * main.js does, since the other CLI tests run main.js.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI, Sandbox, fixture } from './helpers/sandbox.js';

describe('the kugetsu bin', () => {
  let sb: Sandbox;
  const both = async (args: string[]) => ({
    bin: await sb.cli(args, { entry: BIN }),
    main: await sb.cli(args, { entry: CLI }),
  });

  beforeAll(async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh') });
    await sb.setup();
    // Finished, so that nothing changes between the bin's listing and main.js's.
    for (const n of [1, 2])
      await sb.finished(await sb.startDetached(['start', `local/me/app#${n}`, 'go']));
  });
  afterAll(() => sb.cleanup());

  it('is the bundle the build writes, not main.js', () => {
    expect(BIN).toMatch(/\.cjs$/);
    expect(existsSync(BIN)).toBe(true);
  });

  it('lists sessions from the bundle as main.js does, with and without --json', async () => {
    for (const args of [['list', '--json'], ['list', '--all', '--json'], ['list']]) {
      const { bin, main } = await both(args);
      expect(bin).toEqual(main);
      expect(bin.code).toBe(0);
    }
    const { sessions } = JSON.parse(
      (await sb.cli(['list', '--all', '--json'], { entry: BIN })).stdout,
    ) as {
      sessions: Array<{ issueRef: string; task: { id: number } | null }>;
    };
    expect(sessions.map((s) => [s.issueRef, s.task?.id])).toEqual([
      ['local/me/app#2', 2],
      ['local/me/app#1', 1],
    ]);
  });

  it('reports list errors in one line with main.js exit codes', async () => {
    const extra = await both(['list', 'extra']);
    expect(extra.bin).toEqual(extra.main);
    expect(extra.bin.code).toBe(2);
    expect(extra.bin.stderr.trim().split('\n')).toHaveLength(1);
    const help = await both(['list', '--help']);
    expect(help.bin).toEqual(help.main);
    expect(help.bin.stdout).toMatch(/^Usage: kugetsu list/);
    const elsewhere = { KUGETSU_HOME: `${sb.dir}/nowhere` };
    const bin = await sb.cli(['list', '--json'], { entry: BIN, env: elsewhere });
    expect(bin).toEqual(await sb.cli(['list', '--json'], { entry: CLI, env: elsewhere }));
    expect(bin.code).not.toBe(0);
    expect(bin.stderr).toContain('kugetsu is not initialized');
    // The bundle's own copy of the PostgreSQL store, pg and the database error's mapping.
    const unreachable = { KUGETSU_DATABASE_URL: 'postgres://kugetsu:pw-never-shown@127.0.0.1:1/k' };
    const pg = await sb.cli(['list', '--json'], { entry: BIN, env: unreachable });
    expect(pg).toEqual(await sb.cli(['list', '--json'], { entry: CLI, env: unreachable }));
    expect(pg.code).toBe(1);
    expect(pg.stderr).toMatch(/^kugetsu: the database is out of reach: .*\n$/);
    expect(pg.stderr).not.toContain('pw-never-shown');
  });

  it('hands every other command line to main.js, errors included', async () => {
    for (const args of [
      ['--version'],
      ['help'],
      ['server', 'list', '--json'],
      ['queue', 'list', '--json'],
      ['server', 'remove', 'nosuch'],
      ['nosuch'],
    ]) {
      const { bin, main } = await both(args);
      expect(bin).toEqual(main);
    }
    // An OperationError thrown in main.js's modules is still mapped to its exit code and line.
    const missing = await sb.cli(['server', 'remove', 'nosuch'], { entry: BIN });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^kugetsu: .*nosuch.*\n$/);
  });
});
