/**
 * Approvals for the real claude binary: with the default KUGETSU_APPROVAL_POLICY, a command the
 * scripted model asks to run reaches kugetsu through claude's permission-prompt tool (kugetsu's
 * own MCP server), waits as an open approval, is pushed by the daemon's bot to the fake Bot
 * API, and the answer — a tap or a reply on the phone, or `kugetsu approve|deny` — decides what
 * happens: the command runs, or the model is told no and the run ends cleanly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../core/approvals/approval.js';
import { API_KEY_VARIABLE, agentSettings } from './helpers/agent-world.mjs';
import { OWNER, botSandbox, buttonsOf, rendered, startBot } from './helpers/bot-world.js';
import { FakeTelegram, type ChatMessage } from './helpers/fake-telegram.js';
import { ModelServer } from './helpers/model-server.mjs';
import { type Sandbox, running } from './helpers/sandbox.js';

const API_KEY = 'sk-scripted-Secret-4242-abcdefgh';
/** A deployment token the user keeps in claude's env file: the agent has it, pushes must not. */
const DEPLOY_TOKEN = 'tok-Deploy-Secret-7531-qwerty';

let model: ModelServer;
let tg: FakeTelegram;
let sb: Sandbox;
/** Latencies measured along the way, printed at the end. */
const timings: Record<string, number[]> = {};
const measure = (what: string, ms: number): void => void (timings[what] ??= []).push(ms);

beforeAll(async () => {
  model = await ModelServer.start();
  tg = await FakeTelegram.start();
  // The default policy: bash, outside and network ask; edits in the worktree are allowed.
  sb = botSandbox(tg, { KUGETSU_RETRY_BASE_SECONDS: '0.2' });
  Object.assign(sb.env, agentSettings('claude', model, sb.dir));
  await startBot(sb, tg);
  await sb.ok(['env', 'set', API_KEY_VARIABLE.claude ?? 'ANTHROPIC_API_KEY', '-', 'claude'], {
    input: API_KEY,
  });
  await sb.ok(['env', 'set', 'DEPLOY_TOKEN', '-', 'claude'], { input: DEPLOY_TOKEN });
}, 120_000);

afterAll(async () => {
  const lines = Object.entries(timings).map(
    ([what, ms]) => `  ${what}: ${ms.map((m) => `${m} ms`).join(', ')}`,
  );
  if (lines.length > 0) process.stdout.write(`claude approvals, measured:\n${lines.join('\n')}\n`);
  await sb?.cleanup();
  await tg?.close();
  await model?.close();
});

/** The approval's push to the owner's chat (the message with its buttons), once it is sent. */
async function pushOf(approval: Approval): Promise<ChatMessage> {
  // Other messages may name the approval too (a task's progress line says what it waits for).
  const buttons = new RegExp(`"approval:[a-z0-9]+:${approval.id}"`);
  const push = await tg.waitFor(
    () => tg.messagesIn(OWNER.id).find((m) => buttons.test(JSON.stringify(m.reply_markup ?? {}))),
    30_000,
  );
  const sent = tg.calls('sendMessage').find((c) => buttons.test(JSON.stringify(c.params)));
  if (sent !== undefined) measure('open row → push sent', sent.at - approval.createdAt);
  return push;
}

/** Taps a button of the push. */
const press = (push: ChatMessage, data: string): void =>
  void tg.userPresses(OWNER, { chatId: OWNER.id, messageId: push.message_id }, data);

/** The push as the chat shows it now (the bot edits it once answered). */
const current = (push: ChatMessage): ChatMessage | undefined =>
  tg.messagesIn(OWNER.id).find((m) => m.message_id === push.message_id);

/** The task's one open approval, once it is there; a task that ended without one fails. */
function openApproval(taskId: number): Promise<Approval> {
  return sb.until(
    `an open approval for task #${taskId}`,
    async () => {
      const open = (await sb.store().approvals.list({ taskId }))[0];
      if (open !== undefined) return open;
      const task = await sb.store().tasks.get(taskId);
      if (task !== null && task.state !== 'pending' && task.state !== 'running')
        throw new Error(
          `task #${taskId} ended ${task.state} without asking: ${task.result ?? task.lastError ?? ''}`,
        );
      return undefined;
    },
    60_000,
  );
}

/** The tool results claude sent the model with its request for step `step` of a script. */
function toolResults(script: string, step: number): { content: string; is_error?: boolean }[] {
  const request = model.requestsFor(script).find((r) => r.step === step);
  const messages = (request?.body as { messages?: { content: unknown }[] } | undefined)?.messages;
  const last = messages?.[messages.length - 1]?.content;
  if (!Array.isArray(last)) return [];
  return (last as { type?: string; content: unknown; is_error?: boolean }[])
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({
      content: typeof b.content === 'string' ? b.content : JSON.stringify(b.content),
      is_error: b.is_error,
    }));
}

/** When the model server answered the script's first step (the tool call claude then makes). */
function toolCallAt(script: string): number {
  const first = model.requestsFor(script).find((r) => r.step === 0);
  if (first === undefined) throw new Error(`no request for ${script}`);
  return first.at;
}

describe('claude asks kugetsu before it runs a command', () => {
  it('Allow once: the command waits for the answer, then runs, and the task completes', async () => {
    const script = 'approve-once';
    model.script(script, [{ shell: 'date +%s%3N > ran.txt' }, { answer: 'DONE: ran it' }]);
    const id = await sb.startDetached(['start', 'local/me/app#1', `Run it [[${script}]]`]);
    const approval = await openApproval(id);
    measure('tool call → open row', approval.createdAt - toolCallAt(script));
    expect(approval).toMatchObject({
      kind: 'permission',
      agent: 'claude',
      issueRef: 'local/me/app#1',
      tool: 'Bash',
      category: 'bash',
      subject: 'date +%s%3N > ran.txt',
      reason: 'Run a command',
      state: 'open',
    });
    // The agent is held: the command has not run, and the task still runs.
    const worktree = await sb.worktreeOf('local/me/app#1');
    expect(existsSync(join(worktree, 'ran.txt'))).toBe(false);
    expect((await sb.store().tasks.get(id))?.state).toBe('running');
    const listed = await sb.json<{ approvals: Approval[] }>(['approvals']);
    expect(listed.approvals.map((a) => a.id)).toEqual([approval.id]);
    // The phone pings with the command and its reason, and the three buttons.
    const push = await pushOf(approval);
    expect(push.disable_notification).not.toBe(true);
    expect(buttonsOf(push)).toEqual([['Allow once', 'Allow for this task'], ['Deny']]);
    expect(rendered(push.text ?? '')).toContain('date +%s%3N > ran.txt');
    expect(rendered(push.text ?? '')).toContain('Run a command');

    press(push, `approval:once:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(task.result).toContain('DONE: ran it');
    const answered = await sb.store().approvals.get(approval.id);
    expect(answered).toMatchObject({
      state: 'allowed',
      scope: 'once',
      answeredBy: { channel: 'telegram', who: 'Owner' },
    });
    await tg.waitFor(() => buttonsOf(current(push)).length === 0 || null);
    expect(rendered(current(push)?.text ?? '')).toContain('allowed once by Owner (telegram)');
    const ranAt = Number(readFileSync(join(worktree, 'ran.txt'), 'utf8').trim());
    measure('answer → command runs', ranAt - (answered?.resolvedAt ?? 0));
    expect(toolResults(script, 1)).toEqual([
      { content: '(Bash completed with no output)', is_error: false },
    ]);
    const events = await sb.store().events.list({ unreadOnly: false });
    expect(
      events.filter((e) => e.taskId === id && e.type.startsWith('approval_')).map((e) => e.type),
    ).toEqual(['approval_requested', 'approval_resolved']);
  });

  it('Deny: the model is told why, the run ends cleanly, and nothing else starts', async () => {
    const script = 'approve-deny';
    model.script(script, [{ shell: 'touch denied.txt' }, { answer: 'Understood, leaving it.' }]);
    const before = (await sb.tasks()).length;
    const id = await sb.startDetached(['start', 'local/me/app#2', `Touch it [[${script}]]`]);
    const approval = await openApproval(id);
    const tree = sb.taskProcesses(id);
    expect(tree.length).toBeGreaterThan(0);
    press(await pushOf(approval), `approval:deny:${approval.id}`);
    const task = await sb.finished(id);
    // The refusal was an answer the agent was told, not a question left for later.
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(task.attempts).toBe(1);
    expect(task.result).toContain('Understood, leaving it.');
    expect(existsSync(join(await sb.worktreeOf('local/me/app#2'), 'denied.txt'))).toBe(false);
    expect(toolResults(script, 1)).toEqual([{ content: 'denied by Owner', is_error: true }]);
    expect((await sb.tasks()).length).toBe(before + 1);
    expect(await sb.store().approvals.list({ taskId: id })).toEqual([]);
    expect(tree.filter((pid) => running(pid))).toEqual([]);
  });

  it('Allow for this task: a second command in the same task asks nobody', async () => {
    const script = 'approve-task';
    model.script(script, [
      { shell: 'echo one > one.txt' },
      { shell: 'echo two > two.txt' },
      { answer: 'DONE both' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#3', `Both [[${script}]]`]);
    const approval = await openApproval(id);
    expect(approval.subject).toBe('echo one > one.txt');
    press(await pushOf(approval), `approval:task:${approval.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    const worktree = await sb.worktreeOf('local/me/app#3');
    expect(readFileSync(join(worktree, 'one.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(worktree, 'two.txt'), 'utf8')).toBe('two\n');
    expect((await sb.store().approvals.list({ taskId: id, all: true })).map((a) => a.id)).toEqual([
      approval.id,
    ]);
    // From the model's second tool call to its next request: the grant answered in between.
    const requests = model.requestsFor(script);
    const second = requests.find((r) => r.step === 1);
    const third = requests.find((r) => r.step === 2);
    if (second !== undefined && third !== undefined)
      measure('granted command: tool call → result back at the model', third.at - second.at);
  });

  it('edits in the worktree run unattended; its protected files and the outside ask', async () => {
    const script = 'approve-edits';
    // The workspace key of local/me/app#6 (DESIGN.md §2).
    const worktree = join(sb.home, 'worktrees', 'local-me-app-6');
    const outside = join(sb.dir, 'outside.txt');
    model.script(script, [
      { tool: 'Write', input: { file_path: join(worktree, 'notes.txt'), content: 'notes\n' } },
      {
        tool: 'Write',
        input: { file_path: join(worktree, '.claude', 'settings.json'), content: '{}' },
      },
      { tool: 'Write', input: { file_path: outside, content: 'x' } },
      { answer: 'DONE: notes only' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#6', `Notes [[${script}]]`]);
    const settings = await openApproval(id);
    expect(settings).toMatchObject({
      tool: 'Write',
      category: 'outside',
      subject: join('.claude', 'settings.json'),
      reason: expect.stringContaining('claude protects this file') as unknown,
    });
    // The first edit was allowed by the policy before anyone was asked.
    expect(readFileSync(join(worktree, 'notes.txt'), 'utf8')).toBe('notes\n');
    const [first, second] = model.requestsFor(script);
    if (first !== undefined && second !== undefined)
      measure(
        'edit allowed by the policy: tool call → result back at the model',
        second.at - first.at,
      );
    press(await pushOf(settings), `approval:deny:${settings.id}`);
    const beyond = await sb.until('the outside edit asked about', async () =>
      (await sb.store().approvals.list({ taskId: id })).find((a) => a.id !== settings.id),
    );
    expect(beyond).toMatchObject({ category: 'outside', subject: outside, reason: null });
    press(await pushOf(beyond), `approval:deny:${beyond.id}`);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(join(worktree, '.claude', 'settings.json'))).toBe(false);
  });

  it('a question is answered by a reply, and the model reads the answer', async () => {
    const script = 'approve-question';
    model.script(script, [
      {
        tool: 'AskUserQuestion',
        input: {
          questions: [
            {
              question: 'Which colour should the button be?',
              header: 'Colour',
              options: [
                { label: 'red', description: 'warm' },
                { label: 'blue', description: 'cool' },
              ],
              multiSelect: false,
            },
          ],
        },
      },
      { answer: 'DONE: blue it is' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#4', `Pick a colour [[${script}]]`]);
    const question = await openApproval(id);
    measure('question → open row', question.createdAt - toolCallAt(script));
    expect(question).toMatchObject({
      kind: 'question',
      category: 'question',
      tool: 'AskUserQuestion',
      subject: 'Which colour should the button be?',
      options: ['red', 'blue'],
      reason: 'red: warm · blue: cool',
    });
    const push = await pushOf(question);
    expect(buttonsOf(push)).toEqual([['red'], ['blue'], ['Let the agent decide']]);
    tg.userSends(OWNER, 'blue, please', { replyTo: push.message_id });
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(await sb.store().approvals.get(question.id)).toMatchObject({
      state: 'answered',
      answer: 'blue, please',
    });
    const [result] = toolResults(script, 1);
    expect(result?.content).toContain('"Which colour should the button be?"="blue, please"');
  });

  it("keeps an env file's secret out of the approval, its events and the transcript", async () => {
    const script = 'approve-secret';
    model.script(script, [
      { shell: `curl -fsS -H "Authorization: Bearer ${DEPLOY_TOKEN}" http://127.0.0.1:9/deploy` },
      { answer: 'DONE: not deployed' },
    ]);
    const id = await sb.startDetached(['start', 'local/me/app#5', `Deploy [[${script}]]`]);
    const approval = await openApproval(id);
    expect(approval.subject).toBe(
      'curl -fsS -H "Authorization: Bearer ***MASKED***" http://127.0.0.1:9/deploy',
    );
    const listed = await sb.ok(['approvals', '--json']);
    expect(listed).toContain('***MASKED***');
    const push = await pushOf(approval);
    expect(rendered(push.text ?? '')).toContain('Bearer ***MASKED***');
    // Answered from the CLI this time.
    await sb.ok(['deny', String(approval.id)]);
    const task = await sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    // Nothing kugetsu stored or shows holds the token: rows (approvals, events, tasks), notify,
    // the transcript. (The env file itself holds it, as it must.)
    const rows = JSON.stringify((JSON.parse(sb.stateSnapshot()) as { rows: unknown }).rows);
    expect(rows).not.toContain(DEPLOY_TOKEN);
    expect(rows).toContain('***MASKED***');
    expect(await sb.ok(['notify', 'list', '--all', '--json'])).not.toContain(DEPLOY_TOKEN);
    expect(await sb.ok(['logs', String(id)])).not.toContain(DEPLOY_TOKEN);
    // Nor anything the bot sent or edited.
    for (const call of tg.calls('sendMessage').concat(tg.calls('editMessageText')))
      expect(JSON.stringify(call.params)).not.toContain(DEPLOY_TOKEN);
  });
});
