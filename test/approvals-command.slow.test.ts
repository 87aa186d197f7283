/**
 * A command agent asks through `kugetsu ask`: the real daemon, the real CLI inside the agent,
 * answers from the CLI outside it. The agent waits, then goes on with what it was told.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, fixture } from './helpers/sandbox.js';

describe('kugetsu ask from a command agent', () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  const open = (after = 0) =>
    sb.until('an open request', async () =>
      (await sb.store().approvals.list()).find((a) => a.id > after),
    );

  it('holds the agent until the permission and the question are answered, then goes on', async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('ask-agent.sh') });
    await sb.setup();
    const id = await sb.startDetached(['start', 'local/me/app#1', 'ship it']);
    const permission = await open();
    expect(permission).toMatchObject({
      taskId: id,
      agent: 'command',
      kind: 'permission',
      category: 'bash',
      subject: 'deploy --prod',
      reason: 'to publish the site',
    });
    // Nothing moves while nobody answers.
    await new Promise((r) => setTimeout(r, 600));
    expect((await sb.store().tasks.get(id))?.state).toBe('running');
    await sb.ok(['approve', String(permission.id)]);
    const question = await open(permission.id);
    expect(question).toMatchObject({
      kind: 'question',
      subject: 'Which colour?',
      options: ['red', 'blue'],
    });
    await sb.ok(['approve', String(question.id), '--answer', 'blue']);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    const transcript = await sb.ok(['logs', String(id)]);
    expect(transcript).toContain('deploying');
    expect(transcript).toContain('colour: blue');
  });

  it('tells the agent no when denied, and when the policy denies it never asks', async () => {
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: fixture('ask-agent.sh'),
      KUGETSU_APPROVAL_POLICY: 'bash=ask,question=deny',
    });
    await sb.setup();
    const id = await sb.startDetached(['start', 'local/me/app#2', 'ship it']);
    const permission = await open();
    await sb.ok(['deny', String(permission.id), '--message', 'not on a Friday']);
    const task = await sb.finished(id);
    expect(task.state).toBe('completed');
    const transcript = await sb.ok(['logs', String(id)]);
    expect(transcript).toContain('kugetsu: denied: not on a Friday');
    expect(transcript).toContain('deploy refused');
    expect(transcript).toContain('colour: (no answer)');
    // The question was answered by the policy: it never became a request.
    expect(await sb.store().approvals.list({ all: true })).toHaveLength(1);
  });

  it('refuses to ask for a task that is not running', async () => {
    sb = new Sandbox();
    await sb.setup();
    const result = await sb.cli(['ask', '--task', '99', 'rm -rf /']);
    expect(result).toMatchObject({
      code: 1,
      stderr: "kugetsu: task 99 is not running: only a running task's agent can ask\n",
    });
    const usage = await sb.cli(['ask', 'ls']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('run it from an agent (KUGETSU_TASK_ID)');
  });
});
