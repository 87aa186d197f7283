/**
 * The concurrency invariant (DESIGN.md §5) under pressure: 50 tasks delegated from 10
 * separate `kugetsu delegate` processes at once, MAX_CONCURRENT_AGENTS=3. The agents
 * themselves count who is alive; no count may exceed 3, and every task runs exactly once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, fixture } from './helpers/sandbox.js';

describe('concurrency cap under pressure', () => {
  let sb: Sandbox;

  beforeEach(async () => {
    sb = new Sandbox({ MAX_CONCURRENT_AGENTS: '3', AGENT_SLEEP: '1.2' });
    sb.env['COUNTER_DIR'] = sb.dir;
    sb.env['KUGETSU_AGENT_COMMAND'] = fixture('counting-agent.sh');
    sb.env['KUGETSU_DEFAULT_REPO'] = 'local/me/app';
    await sb.setup();
  });
  afterEach(() => sb.cleanup());

  it('never runs more than 3 agents and runs each of 50 tasks exactly once', async () => {
    const delegators = Array.from({ length: 10 }, (_, p) =>
      (async () => {
        const ids: number[] = [];
        for (let i = 0; i < 5; i += 1) {
          const issue = p * 5 + i + 1;
          const out = await sb.json<{ taskId: number }>(['delegate', `work on #${issue} please`]);
          ids.push(out.taskId);
        }
        return ids;
      })(),
    );
    const ids = (await Promise.all(delegators)).flat();
    expect(new Set(ids).size).toBe(50);

    await sb.until(
      'all 50 tasks to finish',
      async () =>
        (await sb.tasks()).filter((t) => t.state === 'completed' || t.state === 'error').length ===
        50,
      120_000,
    );

    const stats = await sb.json<{ completed: number; error: number }>(['queue', 'stats']);
    expect(stats).toMatchObject({ completed: 50, error: 0 });

    const counts = readFileSync(join(sb.dir, 'counts.log'), 'utf8').trim().split('\n').map(Number);
    expect(counts).toHaveLength(50);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    // The cap was actually reached, so the bound above was tested, not idle.
    expect(Math.max(...counts)).toBe(3);

    const runs = readFileSync(join(sb.dir, 'runs.log'), 'utf8').trim().split('\n').map(Number);
    expect(runs.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
  });
});
