/** The store parts the chat features rely on, on a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAgentEnv } from '../core/agents/agent-env.js';
import { openHome } from '../core/home-context.js';
import { openSqliteStore, type SqliteStore } from '../core/store/sqlite/sqlite-store.js';

describe('chat state in the store', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-chat-store-'));
    store = openSqliteStore(join(dir, 'kugetsu.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a task’s attachments with it, in order, and drops them with it', async () => {
    const attachments = [
      { name: 'b.png', path: '/h/attachments/x/b.png', mime: 'image/png', size: 3 },
      { name: 'a.log', path: '/h/attachments/x/a.log', mime: 'text/plain', size: 9 },
    ];
    const task = await store.tasks.enqueue(
      {
        kind: 'dev',
        mode: 'start',
        issueRef: 'h/o/r#1',
        message: 'm',
        agent: 'command',
        maxAttempts: 1,
        attachments,
      },
      {
        issueRef: 'h/o/r#1',
        workspaceKey: 'h-o-r-1',
        serverName: 'h',
        repoPath: 'o/r',
        worktreePath: '/w/1',
        branch: 'kugetsu/h-o-r-1',
        agent: 'command',
      },
    );
    expect(await store.tasks.attachments(task.id)).toEqual(attachments);
    expect((await store.tasks.attachmentPaths()).sort()).toEqual(
      attachments.map((a) => a.path).sort(),
    );
    await store.tasks.cancel(task.id);
    expect(await store.tasks.deleteFinished(Date.now() + 1)).toBe(1);
    expect(await store.tasks.attachments(task.id)).toEqual([]);
    expect(await store.tasks.attachmentPaths()).toEqual([]);
  });

  it('keeps the transcription key from agents and scrubs it, like the bot token', async () => {
    const key = 'sk-transcribe-0123456789';
    const ctx = await openHome(
      { KUGETSU_HOME: dir, KUGETSU_TRANSCRIBE_API_KEY: key },
      { create: true },
    );
    try {
      expect(ctx.withheldKeys()).toContain('KUGETSU_TRANSCRIBE_API_KEY');
      expect(ctx.scrubber().scrub(`Bearer ${key}`)).toBe('Bearer ***MASKED***');
      const env = buildAgentEnv({
        base: ctx.env,
        withheldKeys: ctx.withheldKeys(),
        envFiles: {},
        task: {
          taskId: 1,
          issueRef: null,
          worktree: '/w',
          branch: null,
          mode: 'start',
          attempt: 1,
          sessionKey: 'pm',
          agentSessionId: null,
          model: null,
        },
      });
      expect(Object.values(env)).not.toContain(key);
    } finally {
      ctx.close();
    }
  });
});
