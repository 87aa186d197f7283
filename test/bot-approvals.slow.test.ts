/**
 * Approvals on the phone: the real daemon's bot pushes each open request through the real
 * grammY client to the fake Bot API, a tap or a reply answers it, and the first answer from
 * anywhere (phone or CLI) wins while the other place shows who answered.
 */
import { userInfo } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Approval, ApprovalRequest } from '../core/approvals/approval.js';
import { wakeDaemon } from '../core/wake-channel.js';
import { homePaths } from '../core/home.js';
import { OWNER, botSandbox, buttonsOf, rendered, startBot } from './helpers/bot-world.js';
import { FakeTelegram, type ChatMessage } from './helpers/fake-telegram.js';
import { type Sandbox, fixture } from './helpers/sandbox.js';

const SECRET = 'sk-approval-Secret-9876-zyxwvu';

describe('approvals on the phone', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;
  let issue = 0;

  beforeEach(async () => {
    tg = await FakeTelegram.start();
    sb = botSandbox(tg, {
      KUGETSU_AGENT_COMMAND: fixture('hang-agent.sh'),
      KUGETSU_STALL_TIMEOUT_MINUTES: '60',
    });
    sb.env['COUNTER_DIR'] = sb.dir;
    await startBot(sb, tg);
    await sb.ok(['env', 'set', 'DEPLOY_TOKEN', '-'], { input: SECRET });
  });

  afterEach(async () => {
    await sb.cleanup();
    await tg.close();
  });

  /** A running task, and a request opened for it as an agent's backend would open it. */
  async function ask(
    request: Partial<ApprovalRequest>,
  ): Promise<{ approval: Approval; push: ChatMessage }> {
    const id = await sb.startDetached(['start', `local/me/app#${(issue += 1)}`, 'work']);
    await sb.until(
      'the task to run',
      async () => (await sb.store().tasks.get(id))?.state === 'running',
    );
    const approval = await sb.store().approvals.open(
      id,
      'claude',
      {
        kind: 'permission',
        tool: 'Bash',
        category: 'bash',
        subject: 'npm test',
        reason: 'to check the fix',
        options: [],
        ...request,
      },
      Date.now() + 600_000,
    );
    await wakeDaemon(homePaths(sb.home).daemonSocket);
    const push = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.includes(`approval #${approval.id}`)),
    );
    return { approval, push };
  }

  const pressed = (push: ChatMessage, data: string) =>
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: push.message_id }, data);

  const current = (push: ChatMessage): ChatMessage | undefined =>
    tg.messagesIn(OWNER.id).find((m) => m.message_id === push.message_id);

  it('pushes a permission request that pings, with Allow once · Allow for this task · Deny', async () => {
    const { approval, push } = await ask({ subject: `deploy --token ${SECRET}` });
    expect(push.disable_notification).not.toBe(true);
    expect(buttonsOf(push)).toEqual([['Allow once', 'Allow for this task'], ['Deny']]);
    const text = rendered(push.text ?? '');
    expect(text).toContain('asks for permission');
    expect(text).toContain('wants to run:');
    expect(text).toContain('to check the fix');
    // The row was opened with the secret in it, as a careless backend might: the push is scrubbed.
    expect(text).not.toContain(SECRET);
    expect(text).toContain('deploy --token ***MASKED***');

    pressed(push, `approval:task:${approval.id}`);
    await tg.waitFor(() => buttonsOf(current(push)).length === 0 || null);
    expect(await sb.store().approvals.get(approval.id)).toMatchObject({
      state: 'allowed',
      scope: 'task',
      answeredBy: { channel: 'telegram', who: 'Owner' },
    });
    expect(rendered(current(push)?.text ?? '')).toContain(
      `allowed for the rest of task #${approval.taskId} by Owner (telegram)`,
    );
    expect(await sb.store().approvals.grants(approval.taskId)).toEqual(new Set(['bash']));
    expect(tg.violations).toEqual([]);
  });

  it('lets the first answer win: the CLI answers, the phone is told and its message shows who', async () => {
    const { approval, push } = await ask({});
    expect((await sb.ok(['approve', String(approval.id)])).trim()).toBe(
      `approval #${approval.id}: allowed once by ${userInfo().username} (cli)`,
    );
    // The daemon edits the push once the CLI's answer is in.
    await tg.waitFor(() => buttonsOf(current(push)).length === 0 || null);
    expect(rendered(current(push)?.text ?? '')).toContain(
      `allowed once by ${userInfo().username} (cli)`,
    );
    pressed(push, `approval:deny:${approval.id}`);
    const answer = await tg.waitFor(() => tg.calls('answerCallbackQuery').at(-1));
    expect(answer.params).toMatchObject({
      text: `Already allowed once by ${userInfo().username} (cli)`,
      show_alert: true,
    });
    expect((await sb.store().approvals.get(approval.id))?.state).toBe('allowed');
  });

  it('answers a question by a reply, or by one of its offered answers', async () => {
    const { approval, push } = await ask({
      kind: 'question',
      tool: 'AskUserQuestion',
      category: 'question',
      subject: 'Which database should the tests use?',
      reason: null,
      options: ['SQLite', 'PostgreSQL'],
    });
    expect(buttonsOf(push)).toEqual([['SQLite'], ['PostgreSQL'], ['Let the agent decide']]);
    expect(rendered(push.text ?? '')).toContain('Reply to this message to answer.');
    tg.userSends(OWNER, 'Use SQLite in a temp dir', { replyTo: push.message_id });
    await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.startsWith('✅ Answer sent to task')),
    );
    expect(await sb.store().approvals.get(approval.id)).toMatchObject({
      state: 'answered',
      answer: 'Use SQLite in a temp dir',
    });

    const second = await ask({
      kind: 'question',
      tool: 'AskUserQuestion',
      category: 'question',
      subject: 'Squash the commits?',
      reason: null,
      options: ['yes', 'no'],
    });
    pressed(second.push, `approval:pick1:${second.approval.id}`);
    await sb.until(
      'the pick to land',
      async () => (await sb.store().approvals.get(second.approval.id))?.answer === 'no',
    );
  });

  it('/pending lists every open request with its buttons, and a tap there resolves it', async () => {
    const first = await ask({ subject: 'make lint' });
    const second = await ask({
      tool: 'WebFetch',
      category: 'network',
      subject: 'https://example.com/x',
    });
    tg.userSends(OWNER, '/pending');
    const listed = await tg.waitFor(() => {
      const shown = tg
        .messagesIn(OWNER.id)
        .filter((m) => m.message_id > second.push.message_id && m.text?.includes('approval #'));
      return shown.length === 2 ? shown : null;
    });
    expect(listed.map((m) => rendered(m.text ?? '')).join('\n')).toMatch(
      /make lint[\s\S]*wants to fetch:[\s\S]*https:\/\/example\.com\/x/,
    );
    pressed(listed[1] as ChatMessage, `approval:deny:${second.approval.id}`);
    await sb.until(
      'the deny to land',
      async () => (await sb.store().approvals.get(second.approval.id))?.state === 'denied',
    );
    // The original push is edited too, not only the /pending copy that was tapped.
    await tg.waitFor(() => buttonsOf(current(second.push)).length === 0 || null);
    expect(rendered(current(second.push)?.text ?? '')).toContain('denied by Owner (telegram)');
    expect((await sb.store().approvals.get(first.approval.id))?.state).toBe('open');
    tg.userSends(OWNER, '/pending');
    await tg.waitFor(
      () =>
        tg.messagesIn(OWNER.id).filter((m) => m.text?.includes(`approval #${first.approval.id}`))
          .length === 3 || null,
    );
  });

  it('edits the push when the task ends while it waits, and a late tap changes nothing', async () => {
    const { approval, push } = await ask({});
    await sb.ok(['stop', approval.issueRef ?? '', '--detach']);
    await sb.finished(approval.taskId);
    await tg.waitFor(() => buttonsOf(current(push)).length === 0 || null);
    expect(rendered(current(push)?.text ?? '')).toContain('closed: the attempt ended');
    pressed(push, `approval:once:${approval.id}`);
    const answer = await tg.waitFor(() => tg.calls('answerCallbackQuery').at(-1));
    expect(String(answer.params['text'])).toContain('Already closed: the attempt ended');
  });
});

describe('a stall asked about on the phone', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;

  afterEach(async () => {
    await sb.cleanup();
    await tg.close();
  });

  it('pushes Give more time · Stop; with no answer the push says so and the agent is stopped', async () => {
    tg = await FakeTelegram.start();
    sb = botSandbox(tg, {
      KUGETSU_AGENT_COMMAND: fixture('hang-agent.sh'),
      KUGETSU_STALL_TIMEOUT_MINUTES: '0.01',
      KUGETSU_STALL_GRACE_MINUTES: '0.05',
      KUGETSU_STALL_EXTEND_MINUTES: '10',
      KUGETSU_MAX_ATTEMPTS: '1',
    });
    sb.env['COUNTER_DIR'] = sb.dir;
    await startBot(sb, tg);
    const id = await sb.startDetached(['start', 'local/me/app#40', 'think']);
    const push = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.includes('seems stuck')),
    );
    expect(buttonsOf(push)).toEqual([['Give 10 more minutes', 'Stop']]);
    const task = await sb.finished(id);
    expect(task.lastError).toMatch(/^stalled: no output/);
    await tg.waitFor(
      () =>
        buttonsOf(tg.messagesIn(OWNER.id).find((m) => m.message_id === push.message_id)).length ===
          0 || null,
    );
    expect(
      rendered(tg.messagesIn(OWNER.id).find((m) => m.message_id === push.message_id)?.text ?? ''),
    ).toContain('no answer in time: no answer within');
  });

  it('Stop from the phone ends the task for good, not as a stall to retry', async () => {
    tg = await FakeTelegram.start();
    sb = botSandbox(tg, {
      KUGETSU_AGENT_COMMAND: fixture('hang-agent.sh'),
      KUGETSU_STALL_TIMEOUT_MINUTES: '0.01',
      KUGETSU_STALL_GRACE_MINUTES: '5',
    });
    sb.env['COUNTER_DIR'] = sb.dir;
    await startBot(sb, tg);
    const id = await sb.startDetached(['start', 'local/me/app#41', 'think']);
    const push = await tg.waitFor(() =>
      tg.messagesIn(OWNER.id).find((m) => m.text?.includes('seems stuck')),
    );
    const approvalId = (await sb.store().approvals.list())[0]?.id ?? 0;
    tg.userPresses(
      OWNER,
      { chatId: OWNER.id, messageId: push.message_id },
      `approval:deny:${approvalId}`,
    );
    const task = await sb.finished(id);
    expect(task).toMatchObject({ state: 'cancelled', attempts: 1 });
  });
});
