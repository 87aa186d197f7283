import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openHome, type HomeContext } from '../core/home-context.js';

describe('HomeContext.scrubber', () => {
  let dir: string;
  let ctx: HomeContext;
  afterEach(() => {
    ctx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is reused while no secret changes, and rebuilt when an env file does', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-home-'));
    ctx = await openHome({ KUGETSU_HOME: dir }, { create: true });
    ctx.envFiles.set('API_TOKEN', 'first-secret-value', 'default');
    const first = ctx.scrubber();
    expect(ctx.scrubber()).toBe(first);
    expect(first.scrub('x first-secret-value y')).toBe('x ***MASKED*** y');

    ctx.envFiles.set('OTHER_KEY', 'second-secret-value', 'claude');
    const second = ctx.scrubber();
    expect(second).not.toBe(first);
    expect(second.scrub('first-secret-value second-secret-value')).toBe(
      '***MASKED*** ***MASKED***',
    );

    ctx.envFiles.remove('API_TOKEN', 'default');
    expect(ctx.scrubber().scrub('first-secret-value')).toBe('first-secret-value');
  });
});
