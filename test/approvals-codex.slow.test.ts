/**
 * Codex's approvals, end to end: the real `codex app-server` against the scripted model server
 * under the default KUGETSU_APPROVAL_POLICY, whose model asks to run a command, to edit, to
 * write outside the worktree, or asks a question. The request reaches kugetsu as an open row,
 * the daemon's bot pushes it through the fake Bot API, the agent holds while it is open, and the
 * answer — a button or a reply on the phone, or `kugetsu approve|deny` — reaches the agent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../core/approvals/approval.js';
import { DEFAULT_POLICY_TEXT } from '../core/approvals/policy.js';
import { agentSettings } from './helpers/agent-world.mjs';
import { OWNER, botSandbox, buttonsOf, rendered, startBot } from './helpers/bot-world.js';
import { FakeTelegram, type ChatMessage } from './helpers/fake-telegram.js';
import { ModelServer } from './helpers/model-server.mjs';
import type { Sandbox } from './helpers/sandbox.js';

const SECRET_KEY = 'sk-scripted-Secret-4242-abcdefgh';

let model: ModelServer;
let tg: FakeTelegram;
let sb: Sandbox;
let codexConfig: string;

beforeAll(async () => {
  model = await ModelServer.start();
  tg = await FakeTelegram.start();
  sb = botSandbox(tg, { KUGETSU_RETRY_BASE_SECONDS: '0.2' });
  Object.assign(sb.env, agentSettings('codex', model, sb.dir), {
    KUGETSU_APPROVAL_POLICY: DEFAULT_POLICY_TEXT,
  });
  await startBot(sb, tg);
  await sb.ok(['env', 'set', 'SCRIPTED_API_KEY', '-', 'codex'], { input: SECRET_KEY });
  await sb.ok(['doctor', '--fix'], { timeoutMs: 90_000 });
  codexConfig = readFileSync(join(sb.env['CODEX_HOME'] ?? '', 'config.toml'), 'utf8');
}, 120_000);

afterAll(async () => {
  await sb.cleanup();
  await tg.close();
  await model.close();
});

/** The bot's push of a request (not the task's progress line naming it), and when it was sent. */
async function pushOf(approval: Approval): Promise<{ push: ChatMessage; at: number }> {
  const isPush = (text: unknown): boolean =>
    typeof text === 'string' &&
    text.includes(`approval #${approval.id}`) &&
    /asks for permission|asks you/.test(text);
  // The bot paces each chat to a message a second, in event order: earlier tests' pushes of
  // started and finished tasks may still be ahead of this one.
  const push = await tg.waitFor(() => tg.messagesIn(OWNER.id).find((m) => isPush(m.text)), 30_000);
  const sent = tg.calls('sendMessage').find((c) => isPush(c.params['text']));
  return { push, at: sent?.at ?? 0 };
}

const press = (push: ChatMessage, data: string): number => {
  tg.userPresses(OWNER, { chatId: OWNER.id, messageId: push.message_id }, data);
  return Date.now();
};

/** The task's first open request, once the agent's ask has reached the store. */
function openApproval(taskId: number): Promise<Approval> {
  return sb.until(`an open approval for task #${taskId}`, async () => {
    const task = await sb.store().tasks.get(taskId);
    if (task !== null && task.state !== 'pending' && task.state !== 'running')
      throw new Error(`task #${taskId} ended (${task.state}: ${task.lastError ?? ''}) unasked`);
    return (await sb.store().approvals.list({ taskId }))[0];
  });
}

/** Tool calls the model made in a conversation, as the last request sent them back. */
function toolCalls(script: string): string[] {
  const last = model.requestsFor(script).at(-1)?.body as {
    input?: { type?: string; name?: string }[];
  };
  return (last.input ?? []).filter((i) => i.type === 'function_call').map((i) => i.name ?? '');
}

const patch = (path: string, line: string): string =>
  `apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: ${path}\n+${line}\n*** End Patch\nEOF`;

describe('codex approvals (app-server)', () => {
  it('a command is pushed to the phone and waits; Allow once runs it, the task completes', async () => {
    const script = 'codex-allow-once';
    model.script(script, [
      { shell: `echo allowed > allowed.txt # ${SECRET_KEY}` },
      { answer: 'DONE: wrote allowed.txt' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#1', `Write it [[${script}]]`]);
    const approval = await openApproval(id);
    const toolCallAt = model.requestsFor(script)[0]?.at ?? 0;
    expect(approval).toMatchObject({
      kind: 'permission',
      agent: 'codex',
      tool: 'exec_command',
      category: 'bash',
      state: 'open',
    });
    // The command as the model wrote it, scrubbed of the key kept in the env file.
    expect(approval.subject).toMatch(/^echo allowed > allowed\.txt # /);
    expect(approval.subject).not.toContain(SECRET_KEY);
    // The push pings the phone with the command and the three buttons.
    const { push, at: pushedAt } = await pushOf(approval);
    expect(push.disable_notification).not.toBe(true);
    expect(buttonsOf(push)).toEqual([['Allow once', 'Allow for this task'], ['Deny']]);
    const text = rendered(push.text ?? '');
    expect(text).toContain('echo allowed > allowed.txt');
    expect(text).not.toContain(SECRET_KEY);
    expect(await sb.ok(['approvals'])).toContain(`#${approval.id}`);
    // The agent holds: nothing ran, and it stays running while nobody answers.
    const worktree = await sb.worktreeOf('local/me/app#1');
    expect(existsSync(join(worktree, 'allowed.txt'))).toBe(false);
    expect((await sb.store().tasks.get(id))?.state).toBe('running');

    const pressedAt = press(push, `approval:once:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(task.result).toContain('DONE: wrote allowed.txt');
    expect(readFileSync(join(worktree, 'allowed.txt'), 'utf8')).toBe('allowed\n');
    expect(await sb.store().approvals.get(approval.id)).toMatchObject({
      state: 'allowed',
      scope: 'once',
      answeredBy: { channel: 'telegram', who: 'Owner' },
    });
    const next = model.requestsFor(script)[1];
    expect(JSON.stringify(next?.body)).toContain('Process exited with code 0');
    const resolvedAt = (await sb.store().approvals.get(approval.id))?.resolvedAt ?? 0;
    process.stdout.write(
      `codex approvals: model's tool call → open row ${approval.createdAt - toolCallAt} ms → ` +
        `push at the Bot API ${pushedAt - approval.createdAt} ms; Allow pressed → answered ` +
        `${resolvedAt - pressedAt} ms → command run and codex's next model request ` +
        `${(next?.at ?? 0) - resolvedAt} ms\n`,
    );
    expect(approval.createdAt - toolCallAt).toBeLessThan(5_000);
    // app-server leaves codex's own config alone (no trust entries per worktree).
    expect(readFileSync(join(sb.env['CODEX_HOME'] ?? '', 'config.toml'), 'utf8')).toBe(codexConfig);
    expect(tg.violations).toEqual([]);
  });

  it('Deny: codex is told, the run ends cleanly, nothing else is started', async () => {
    const script = 'codex-deny';
    model.script(script, [
      { shell: 'echo denied > denied.txt' },
      { answer: 'I was not allowed to write denied.txt.' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#2', `Write it [[${script}]]`]);
    const approval = await openApproval(id);
    const { push } = await pushOf(approval);
    press(push, `approval:deny:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(task.result).toContain('I was not allowed to write denied.txt.');
    const worktree = await sb.worktreeOf('local/me/app#2');
    expect(existsSync(join(worktree, 'denied.txt'))).toBe(false);
    // The model heard the refusal, and the person's words with it.
    const bodies = model.requestsFor(script).map((r) => JSON.stringify(r.body));
    expect(bodies[1]).toContain('rejected by user');
    expect(bodies.some((b) => b.includes('denied by Owner'))).toBe(true);
    // One request, one answer, no other command; no process of the task is left.
    expect(
      (await sb.store().approvals.list({ taskId: id, all: true })).map((a) => a.state),
    ).toEqual(['denied']);
    expect(toolCalls(script)).toEqual(['exec_command']);
    expect(sb.taskProcesses(id)).toEqual([]);
    const logs = await sb.ok(['logs', String(id)]);
    expect(logs).toContain('$ echo denied > denied.txt');
    expect(logs).toContain('(declined)');
  });

  it('Allow for this task: the next command runs without a second ask', async () => {
    const script = 'codex-allow-task';
    model.script(script, [
      { shell: 'echo one > one.txt' },
      { shell: 'echo two > two.txt' },
      { answer: 'DONE: both' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#3', `Write both [[${script}]]`]);
    const approval = await openApproval(id);
    expect(approval.subject).toBe('echo one > one.txt');
    press((await pushOf(approval)).push, `approval:task:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    const worktree = await sb.worktreeOf('local/me/app#3');
    expect(readFileSync(join(worktree, 'one.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(worktree, 'two.txt'), 'utf8')).toBe('two\n');
    expect(await sb.store().approvals.list({ taskId: id, all: true })).toHaveLength(1);
    expect(await sb.ok(['logs', String(id)])).toContain(
      'bash was allowed for the rest of this task',
    );
  });

  it('edits inside the worktree run by policy; a patch outside it is asked, and denied', async () => {
    const script = 'codex-edits';
    const outside = join(sb.dir, 'outside.txt');
    model.script(script, [
      { tool: 'exec_command', input: { cmd: patch('notes.txt', 'inside') } },
      { tool: 'exec_command', input: { cmd: patch(outside, 'outside') } },
      { answer: 'DONE: notes' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#4', `Edit [[${script}]]`]);
    const approval = await openApproval(id);
    expect(approval).toMatchObject({ tool: 'apply_patch', category: 'outside', subject: outside });
    await sb.ok(['deny', String(approval.id), '--message', 'not outside the repository']);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(readFileSync(join(await sb.worktreeOf('local/me/app#4'), 'notes.txt'), 'utf8')).toBe(
      'inside\n',
    );
    expect(existsSync(outside)).toBe(false);
    // The person's words reach the model with codex's refusal.
    expect(
      model
        .requestsFor(script)
        .some((r) => JSON.stringify(r.body).includes('not outside the repository')),
    ).toBe(true);
    expect(await sb.store().approvals.list({ taskId: id, all: true })).toHaveLength(1);
    expect(await sb.ok(['logs', String(id)])).toContain(
      'wants to edit notes.txt: allowed (KUGETSU_APPROVAL_POLICY allows edit)',
    );
  });

  it("the PM agent's kugetsu commands run unasked; anything else it runs is asked", async () => {
    const dev = 'codex-pm-dev';
    const pm = 'codex-pm';
    model.script(dev, [{ answer: 'DONE pm' }]);
    model.script(pm, [
      { shell: `kugetsu start local/me/app#7 "Say done [[${dev}]]" --detach` },
      { shell: 'kugetsu list --json; touch /tmp/not-asked' },
      { answer: 'Started local/me/app#7 for you.' },
    ]);
    const out = await sb.json<{ taskId: number }>(['delegate', `Start app#7 [[${pm}]]`]);
    const approval = await openApproval(out.taskId);
    expect(approval.subject).toBe('kugetsu list --json; touch /tmp/not-asked');
    await sb.ok(['deny', String(approval.id)]);
    const task = await sb.finished(out.taskId);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(await sb.store().approvals.list({ taskId: out.taskId, all: true })).toHaveLength(1);
    const devTask = await sb.until('the dev task the PM started', async () =>
      (await sb.tasks()).find((t) => t.issueRef === 'local/me/app#7'),
    );
    expect((await sb.finished(devTask.id)).state).toBe('completed');
  });

  it('a question waits for its answer, which reaches the model', async () => {
    const script = 'codex-question';
    model.script(script, [
      {
        tool: 'request_user_input',
        input: {
          questions: [
            {
              id: 'color',
              header: 'Color',
              question: 'Which colour should the button be?',
              options: [
                { label: 'Red (Recommended)', description: 'Bold' },
                { label: 'Blue', description: 'Calm' },
              ],
            },
          ],
        },
      },
      { answer: 'DONE: painted it' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#5', `Paint [[${script}]]`]);
    const approval = await openApproval(id);
    expect(approval).toMatchObject({
      kind: 'question',
      category: 'question',
      subject: 'Which colour should the button be?',
      options: ['Red (Recommended)', 'Blue'],
    });
    const { push } = await pushOf(approval);
    expect(rendered(push.text ?? '')).toContain('Which colour should the button be?');
    tg.userSends(OWNER, 'Blue, the calm one', { replyTo: push.message_id });
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(JSON.stringify(model.requestsFor(script)[1]?.body)).toContain('Blue, the calm one');
  });
});
