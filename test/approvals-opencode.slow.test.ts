/**
 * OpenCode asks, the phone answers: the real opencode binary (its own `opencode serve` per run)
 * against the scripted model server, whose model wants to run a command, under the default
 * policy (bash asks). The request reaches kugetsu as an open approval, the real daemon's bot
 * pushes it to the fake Bot API, and a tap answers it: Allow once runs the command, Deny tells
 * the model and the run ends cleanly, Allow for this task asks no more, a subagent's command
 * asks too, a question is answered by a reply, and a stop while it waits ends the server's whole
 * process group.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../core/approvals/approval.js';
import { agentSettings } from './helpers/agent-world.mjs';
import { OWNER, botSandbox, rendered, startBot } from './helpers/bot-world.js';
import { FakeTelegram, type ChatMessage } from './helpers/fake-telegram.js';
import { ModelServer } from './helpers/model-server.mjs';
import { running, type Sandbox } from './helpers/sandbox.js';

const SECRET = 'sk-opencode-Secret-5150-qwerty';

let model: ModelServer;
let tg: FakeTelegram;
let sb: Sandbox;
let issue = 0;
/** What each test measured, printed at the end. */
const timings: string[] = [];

beforeAll(async () => {
  model = await ModelServer.start();
  tg = await FakeTelegram.start();
  sb = botSandbox(tg, { KUGETSU_STALL_TIMEOUT_MINUTES: '5' });
  // The default policy: commands ask, edits in the worktree do not.
  Object.assign(sb.env, agentSettings('opencode', model, sb.dir), { KUGETSU_AGENT: 'opencode' });
  delete sb.env['KUGETSU_APPROVAL_POLICY'];
  await startBot(sb, tg);
  // A secret kugetsu knows: a request that shows it is scrubbed before it is stored or pushed.
  await sb.ok(['env', 'set', 'DEPLOY_TOKEN', '-', 'opencode'], { input: SECRET });
}, 120_000);

afterAll(async () => {
  await sb.cleanup();
  await tg.close();
  await model.close();
  if (timings.length > 0)
    process.stdout.write(`\nopencode approvals:\n  ${timings.join('\n  ')}\n`);
});

/** Starts a task on a new issue with a scripted model; returns its id and issue ref. */
async function start(
  name: string,
  steps: Parameters<ModelServer['script']>[1],
): Promise<{ id: number; ref: string }> {
  model.script(name, steps);
  const ref = `local/me/app#${(issue += 1)}`;
  const id = await sb.startDetached(['start', ref, `Do the thing [[${name}]]`]);
  return { id, ref };
}

/** The next request opened for the task, and its push in the owner's chat. */
async function opened(
  taskId: number,
  after = 0,
): Promise<{ approval: Approval; push: ChatMessage; pushedAt: number }> {
  const approval = await sb.until(
    'an open approval',
    async () =>
      (await sb.store().approvals.list()).find((a) => a.taskId === taskId && a.id > after),
    90_000,
  );
  const push = await tg.waitFor(
    () => tg.messagesIn(OWNER.id).find((m) => m.text?.includes(`approval #${approval.id}`)),
    30_000,
  );
  return { approval, push, pushedAt: Date.now() };
}

const press = (push: ChatMessage, data: string): void => {
  tg.userPresses(OWNER, { chatId: OWNER.id, messageId: push.message_id }, data);
};

describe('opencode approvals through its server', () => {
  it('Allow once: the command asked about runs and the task completes', async () => {
    const script = 'oc-allow';
    const { id, ref } = await start(script, [
      // The command stamps when it ran: the answer reached the agent by then.
      { shell: `date +%s%3N > allowed.txt && echo ${SECRET} > /dev/null` },
      { answer: 'DONE: allowed.txt written' },
    ]);
    const { approval, push, pushedAt } = await opened(id);
    expect(approval).toMatchObject({
      agent: 'opencode',
      kind: 'permission',
      tool: 'bash',
      category: 'bash',
      subject: 'date +%s%3N > allowed.txt && echo ***MASKED*** > /dev/null',
      reason: 'Run a command',
    });
    const text = rendered(push.text ?? '');
    expect(text).toContain('date +%s%3N > allowed.txt');
    expect(text).not.toContain(SECRET);
    // The model is held: one request so far, the one that asked for the command.
    const toolCall = model.requestsFor(script)[0];
    expect(model.requestsFor(script)).toHaveLength(1);
    expect((await sb.store().tasks.get(id))?.state).toBe('running');

    const pressedAt = Date.now();
    press(push, `approval:once:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(task.result).toContain('DONE: allowed.txt written');
    const ranAt = Number(readFileSync(join(await sb.worktreeOf(ref), 'allowed.txt'), 'utf8'));
    expect(ranAt).toBeGreaterThan(pressedAt);
    expect(await sb.store().approvals.get(approval.id)).toMatchObject({
      state: 'allowed',
      scope: 'once',
      answeredBy: { channel: 'telegram', who: 'Owner' },
    });
    const next = model.requestsFor(script)[1];
    const resolvedAt = (await sb.store().approvals.get(approval.id))?.resolvedAt ?? 0;
    const since = toolCall?.at ?? 0;
    timings.push(
      `model's tool call → open row ${approval.createdAt - since} ms → push seen ${pushedAt - since} ms; tap → row answered ${resolvedAt - pressedAt} ms → the command runs ${ranAt - resolvedAt} ms → the model's next request ${(next?.at ?? 0) - ranAt} ms`,
    );
    const logs = await sb.ok(['logs', String(id)]);
    expect(logs).toContain('$ date +%s%3N > allowed.txt');
    expect(logs).not.toContain(SECRET);
  });

  it('Deny: the model is told, the run ends cleanly, nothing else runs', async () => {
    const script = 'oc-deny';
    const { id, ref } = await start(script, [
      { shell: 'touch denied.txt' },
      { answer: 'Understood, I will leave it.' },
    ]);
    const tasksBefore = (await sb.tasks()).length;
    const { approval, push } = await opened(id);
    const tree = sb.taskProcesses(id);
    expect(tree.length).toBeGreaterThan(0);
    press(push, `approval:deny:${approval.id}`);
    const task = await sb.finished(id);
    // The model heard the refusal and ended its turn with its own account, as claude and codex
    // do: the person decided already, so it is no question for them.
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(task.attempts).toBe(1);
    expect(task.result).toContain('Understood, I will leave it.');
    expect(existsSync(join(await sb.worktreeOf(ref), 'denied.txt'))).toBe(false);
    // The model heard why, in the one request after the refusal.
    const requests = model.requestsFor(script);
    expect(requests).toHaveLength(2);
    expect(JSON.stringify(requests[1]?.body)).toContain('denied by Owner');
    expect(
      (await sb.store().approvals.list({ all: true })).filter((a) => a.taskId === id),
    ).toHaveLength(1);
    expect(await sb.tasks()).toHaveLength(tasksBefore);
    expect(tree.filter((pid) => running(pid))).toEqual([]);
  });

  it('Allow for this task: the second command runs without asking', async () => {
    const script = 'oc-task';
    const { id, ref } = await start(script, [
      { shell: 'echo 1 > one.txt' },
      // Not `echo …`: opencode's own "always" would cover that; the grant must.
      { shell: 'touch two.txt' },
      { answer: 'DONE both' },
    ]);
    const { approval, push } = await opened(id);
    press(push, `approval:task:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    const worktree = await sb.worktreeOf(ref);
    expect(readFileSync(join(worktree, 'one.txt'), 'utf8')).toBe('1\n');
    expect(existsSync(join(worktree, 'two.txt'))).toBe(true);
    expect(
      (await sb.store().approvals.list({ all: true })).filter((a) => a.taskId === id),
    ).toHaveLength(1);
    expect(await sb.ok(['logs', String(id)])).toContain(
      'bash was allowed for the rest of this task',
    );
  });

  it('a subagent asks as well: its command waits for the same answer', async () => {
    const child = 'oc-child';
    model.script(child, [{ shell: 'echo child > child.txt' }, { answer: 'child done' }]);
    const script = 'oc-subagent';
    const { id, ref } = await start(script, [
      {
        tool: 'task',
        input: {
          description: 'write child.txt',
          prompt: `Write child.txt [[${child}]]`,
          subagent_type: 'general',
        },
      },
      { answer: 'DONE: the subagent wrote it' },
    ]);
    const { approval, push } = await opened(id);
    expect(approval).toMatchObject({ category: 'bash', subject: 'echo child > child.txt' });
    expect(existsSync(join(await sb.worktreeOf(ref), 'child.txt'))).toBe(false);
    press(push, `approval:once:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(readFileSync(join(await sb.worktreeOf(ref), 'child.txt'), 'utf8')).toBe('child\n');
  });

  it('a question is pushed and the reply to it is the answer', async () => {
    const script = 'oc-question';
    const { id } = await start(script, [
      {
        tool: 'question',
        input: {
          questions: [
            {
              question: 'Which colour should the button be?',
              header: 'Colour',
              options: [
                { label: 'red', description: 'warm' },
                { label: 'blue', description: 'cold' },
              ],
            },
          ],
        },
      },
      { answer: 'DONE: green it is' },
    ]);
    const { approval, push } = await opened(id);
    expect(approval).toMatchObject({
      kind: 'question',
      category: 'question',
      subject: 'Which colour should the button be?',
      options: ['red', 'blue'],
    });
    tg.userSends(OWNER, 'green, please', { replyTo: push.message_id });
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(JSON.stringify(model.requestsFor(script)[1]?.body)).toContain('green, please');
  });

  it('a stop while it waits ends the server and everything it started', async () => {
    const script = 'oc-stop';
    const { id, ref } = await start(script, [
      { shell: 'echo never > never.txt' },
      { answer: 'never reached' },
    ]);
    const { approval } = await opened(id);
    const tree = sb.taskProcesses(id);
    // The server, in a process group of its own that the supervisor ends.
    expect(tree.length).toBeGreaterThan(0);
    const stoppedAt = Date.now();
    await sb.ok(['stop', ref]);
    const task = await sb.finished(id);
    expect(task.state).toBe('cancelled');
    await sb.until('the whole tree to end', () => tree.every((pid) => !running(pid)), 15_000);
    timings.push(
      `stop mid-approval → every process of the task gone: ${Date.now() - stoppedAt} ms`,
    );
    expect((await sb.store().approvals.get(approval.id))?.state).not.toBe('open');
    expect(existsSync(join(await sb.worktreeOf(ref), 'never.txt'))).toBe(false);
    expect(model.requestsFor(script)).toHaveLength(1);
  });
});
