/** Approvals: the policy (pure), the rows on a real SQLite file, and the gate's wait. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runningPmTask } from './helpers/running-task.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../core/approvals/approval.js';
import { approvalGate } from '../core/approvals/gate.js';
import {
  DEFAULT_POLICY_TEXT,
  actionFor,
  decide,
  parsePolicy,
  policyFor,
} from '../core/approvals/policy.js';
import { answerFor } from '../core/operations/approvals.js';
import { SqliteDb } from '../core/store/sqlite/sqlite-db.js';
import { SqliteStore } from '../core/store/sqlite/sqlite-store.js';

const bash = (subject: string): ApprovalRequest => ({
  kind: 'permission',
  tool: 'Bash',
  category: 'bash',
  subject,
  reason: 'to run the tests',
  options: [],
});

describe('approval policy', () => {
  it('picks the most specific rule: agent and category, agent, category, then *', () => {
    const policy = parsePolicy('*=deny,bash=ask,claude:*=allow,claude:network=deny');
    expect(actionFor(policy, 'claude', 'network')).toBe('deny');
    expect(actionFor(policy, 'claude', 'bash')).toBe('allow');
    expect(actionFor(policy, 'codex', 'bash')).toBe('ask');
    expect(actionFor(policy, 'codex', 'edit')).toBe('deny');
  });

  it('asks for what no rule names, and later rules of equal weight win', () => {
    expect(actionFor(parsePolicy(''), 'opencode', 'bash')).toBe('ask');
    expect(actionFor(parsePolicy('bash=allow,bash=deny'), 'opencode', 'bash')).toBe('deny');
  });

  it('runs edits unattended by default and asks for the rest', () => {
    const policy = policyFor(parsePolicy(DEFAULT_POLICY_TEXT), 'codex');
    expect(policy).toEqual({
      bash: 'ask',
      edit: 'allow',
      outside: 'ask',
      network: 'ask',
      other: 'ask',
      question: 'ask',
    });
  });

  it.each([
    ['bash', 'is not [agent:]category=action'],
    ['bash=maybe', 'has no action'],
    ['cursor:bash=allow', 'names no agent'],
    ['files=allow', 'names no category'],
    ['question=allow', 'a question can only be ask or deny'],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(message);
  });

  it('lets a grant for the task answer before the policy, but never for a question', () => {
    const policy = parsePolicy('bash=deny,question=ask');
    const grants = new Set(['bash' as const, 'question' as const]);
    expect(decide(policy, 'claude', bash('ls'), grants).decision).toBe('allow');
    expect(decide(policy, 'claude', bash('ls'), new Set()).decision).toBe('deny');
    expect(
      decide(policy, 'claude', { kind: 'question', category: 'question' }, grants).decision,
    ).toBe('ask');
    expect(
      decide(parsePolicy('*=allow'), 'claude', { kind: 'stall', category: 'other' }, grants),
    ).toEqual({ decision: 'ask' });
  });
});

describe('approval records and the gate', () => {
  let dir: string;
  let store: SqliteStore;
  let taskId: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-approvals-'));
    const db = SqliteDb.open(join(dir, 'kugetsu.db'));
    store = new SqliteStore(db);
    taskId = await runningPmTask(store);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = { channel: 'cli' as const, who: 'root' };
  const phone = { channel: 'telegram' as const, who: '@alice' };

  it('writes the request with its event, and the first of two answers wins', async () => {
    const approval = await store.approvals.open(
      taskId,
      'claude',
      bash('npm test'),
      Date.now() + 1000,
    );
    expect(await store.approvals.hasOpen(taskId)).toBe(true);
    const first = await store.approvals.resolve(approval.id, {
      decision: 'allow',
      scope: 'once',
      by: phone,
    });
    const second = await store.approvals.resolve(approval.id, {
      decision: 'deny',
      message: 'no',
      by: cli,
    });
    expect(first.won).toBe(true);
    expect(second).toMatchObject({ won: false, approval: { state: 'allowed', answeredBy: phone } });
    const events = await store.events.list({ unreadOnly: false });
    expect(events.map((e) => [e.type, e.data.approvalId])).toEqual(
      expect.arrayContaining([
        ['approval_requested', approval.id],
        ['approval_resolved', approval.id],
      ]),
    );
    expect(events.filter((e) => e.type === 'approval_resolved')).toHaveLength(1);
    expect(events.find((e) => e.type === 'approval_requested')?.message).toBe(
      `#${taskId} wants to run npm test (approval #${approval.id})`,
    );
  });

  it('leaves a grant for "allow for this task" that the gate then uses without asking', async () => {
    const approval = await store.approvals.open(
      taskId,
      'claude',
      bash('npm test'),
      Date.now() + 1000,
    );
    await store.approvals.resolve(approval.id, { decision: 'allow', scope: 'task', by: phone });
    const gate = approvalGate({
      approvals: store.approvals,
      taskId,
      agent: 'claude',
      policy: parsePolicy('bash=ask'),
      timeoutMs: 60_000,
      announce: () => undefined,
      scrub: (t) => t,
    });
    await expect(gate.ask(bash('npm run lint'))).resolves.toMatchObject({
      decision: 'allow',
      by: { channel: 'kugetsu', who: 'policy' },
    });
    expect(await store.approvals.list()).toEqual([]);
  });

  it('closes what a task still waits for when its attempt ends', async () => {
    await store.approvals.open(taskId, 'claude', bash('sleep 100'), Date.now() + 1000);
    await store.tasks.finishAttempt(taskId, null, null, {
      kind: 'cancelled',
      agentSessionId: null,
    });
    expect(await store.approvals.list({ all: true })).toMatchObject([
      { state: 'expired', answer: 'the attempt ended', answeredBy: { channel: 'kugetsu' } },
    ]);
  });

  it('holds the agent until an answer arrives, scrubbed of secrets, and announces it', async () => {
    let announced = 0;
    const gate = approvalGate({
      approvals: store.approvals,
      taskId,
      agent: 'claude',
      policy: parsePolicy('bash=ask'),
      timeoutMs: 60_000,
      announce: () => (announced += 1),
      scrub: (t) => t.replaceAll('hunter2-secret', '***MASKED***'),
      pollMs: 10,
    });
    const waiting = gate.ask(bash('curl -H "Authorization: hunter2-secret" x\u0000'));
    await new Promise((r) => setTimeout(r, 30));
    const [open] = await store.approvals.list();
    expect(open?.subject).toBe('curl -H "Authorization: ***MASKED***" x');
    expect(announced).toBe(1);
    await store.approvals.resolve(open?.id ?? 0, {
      decision: 'deny',
      message: 'not now',
      by: phone,
    });
    await expect(waiting).resolves.toEqual({ decision: 'deny', message: 'not now', by: phone });
  });

  it('denies a request nobody answered in time, and tells the agent why', async () => {
    const gate = approvalGate({
      approvals: store.approvals,
      taskId,
      agent: 'claude',
      policy: parsePolicy('bash=ask'),
      timeoutMs: 40,
      announce: () => undefined,
      scrub: (t) => t,
      pollMs: 5,
    });
    const answer = await gate.ask(bash('rm -rf build'));
    expect(answer).toMatchObject({ decision: 'deny', by: { channel: 'timeout' } });
    expect(answer.decision === 'deny' && answer.message).toMatch(
      /no answer within .*KUGETSU_APPROVAL_TIMEOUT/,
    );
    expect((await store.approvals.list({ all: true }))[0]?.state).toBe('expired');
  });

  it('refuses an answer that does not fit the request', () => {
    expect(() =>
      answerFor({ id: 3, kind: 'permission' }, { kind: 'answer', text: 'yes' }, cli),
    ).toThrow('approval #3 is not a question');
    expect(() =>
      answerFor({ id: 4, kind: 'question' }, { kind: 'allow', scope: 'once' }, cli),
    ).toThrow('approval #4 is a question');
    expect(() =>
      answerFor({ id: 4, kind: 'question' }, { kind: 'answer', text: '  ' }, cli),
    ).toThrow('the answer is empty');
  });
});
