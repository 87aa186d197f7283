/**
 * The real agent CLIs (opencode-ai, @anthropic-ai/claude-code, @openai/codex from npm) run by
 * kugetsu against the scripted model server, offline: the whole path from `kugetsu start` to a
 * commit in the worktree, with the session id read from the agent's own output.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyIf } from './only-if.js';
import type { Usage } from '../../core/domain.js';
import { API_KEY_VARIABLE, agentSettings, type RealAgent } from './agent-world.mjs';
import { ModelServer } from './model-server.mjs';
import { Sandbox, git, running } from './sandbox.js';

interface SessionView {
  issueRef: string;
  state: string;
  agent: string;
  agentSessionId: string | null;
  worktreePath: string;
  branch: string;
}

const SESSION_ID: Record<RealAgent, RegExp> = {
  opencode: /^ses_[A-Za-z0-9]+$/,
  claude: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  codex: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

const SECRET_KEY = 'sk-scripted-Secret-4242-abcdefgh';

let model: ModelServer;

/** The real agent CLIs' suite, for one agent: each agent's file runs it, so they spread over workers. */
export function realAgentSuite(agent: RealAgent): void {
  beforeAll(async () => {
    model = await ModelServer.start();
  });
  afterAll(() => model.close());

  /**
   * These suites test runs, not approvals: commands and reads beyond the worktree run unattended
   * (approvals-*.slow.test.ts ask with the default policy).
   */
  const UNATTENDED = { KUGETSU_APPROVAL_POLICY: 'bash=allow,outside=allow,network=allow' };

  async function world(agent: RealAgent, settings: Record<string, string> = {}): Promise<Sandbox> {
    const sb = new Sandbox({ KUGETSU_RETRY_BASE_SECONDS: '0.2', ...UNATTENDED, ...settings });
    Object.assign(sb.env, agentSettings(agent, model, sb.dir), settings);
    await sb.setup();
    const keyVar = API_KEY_VARIABLE[agent];
    if (keyVar !== null) await sb.ok(['env', 'set', keyVar, '-', agent], { input: SECRET_KEY });
    // `init` could not make codex's base session before its key was set; the doctor does now.
    await sb.ok(['doctor', '--fix'], { timeoutMs: 90_000 });
    return sb;
  }

  function sessionOf(sessions: SessionView[], ref: string): SessionView {
    const found = sessions.find((s) => s.issueRef === ref);
    if (found === undefined) throw new Error(`no session ${ref}`);
    return found;
  }

  describe(`${agent} backend`, () => {
    let sb: Sandbox;

    beforeAll(async () => {
      sb = await world(agent);
    }, 120_000);
    afterAll(() => sb.cleanup());

    it('starts: the agent commits in the worktree, its session id and usage are recorded', async () => {
      const script = `${agent}-start`;
      model.script(script, [
        { shell: 'echo hello > hello.txt && git add hello.txt && git commit -q -m "add hello"' },
        { answer: 'DONE: added hello.txt' },
      ]);
      const id = await sb.startDetached([
        'start',
        'local/me/app#1',
        `Add a greeting [[${script}]]`,
      ]);
      const task = await sb.finished(id);
      expect(task.state, task.lastError ?? '').toBe('completed');
      expect(task.result).toContain('DONE: added hello.txt');

      const { sessions } = await sb.json<{ sessions: SessionView[] }>(['list', '--all']);
      const session = sessionOf(sessions, 'local/me/app#1');
      expect(session.agent).toBe(agent);
      expect(session.agentSessionId).toMatch(SESSION_ID[agent]);
      // codex's sandbox cannot write a worktree's git directory: kugetsu commits for it.
      expect(git(session.worktreePath, ['log', '-1', '--format=%s']).trim()).toBe(
        agent === 'codex' ? 'DONE: added hello.txt' : 'add hello',
      );
      expect(readFileSync(join(session.worktreePath, 'hello.txt'), 'utf8')).toBe('hello\n');

      // Usage: every scripted response reports the same tokens; the task sums its requests.
      const requests = model.requestsFor(script);
      expect(requests.length).toBeGreaterThanOrEqual(2);
      const usage = task.usage as Usage;
      expect(usage.outputTokens).toBe(model.usage.output * requests.length);
      expect(usage.inputTokens).toBe(model.usage.input * requests.length);
      expect(usage.cacheReadTokens).toBe(model.usage.cacheRead * requests.length);

      // The prompt reached the model whole, as one message, with kugetsu's standing instructions.
      const first = JSON.stringify(requests[0]?.body);
      expect(first).toContain(`Add a greeting [[${script}]]`);
      expect(first).toContain('You are a coding agent run by kugetsu');

      // codex forks the base session `doctor --fix` made: its turn comes first in the history,
      // the dev session is a new one. The others take the instructions with their first prompt.
      const doctor = await sb.json<{ checks: { name: string; detail: string }[] }>(['doctor']);
      const base = doctor.checks.find((c) => c.name === 'base session')?.detail ?? '';
      if (agent === 'codex') {
        const baseId = /session (\S+), forked/.exec(base)?.[1];
        expect(baseId).toMatch(SESSION_ID.codex);
        expect(session.agentSessionId).not.toBe(baseId);
        expect(first).toContain('Reply with one word, \\"Ready\\"');
        expect(first.indexOf('Reply with one word')).toBeLessThan(first.indexOf(`[[${script}]]`));
      } else {
        expect(base).toContain('cannot fork across directories');
        expect(first).not.toContain('Reply with one word');
      }

      // The transcript is readable lines, and the API key kept in the env file never shows.
      const logs = await sb.ok(['logs', String(id)]);
      // codex reports no item for a command its sandbox refused (the commit), only the answer.
      expect(logs).toContain(
        agent === 'codex' ? "committed the agent's changes" : '$ echo hello > hello.txt',
      );
      expect(logs).toContain('DONE: added hello.txt');
      expect(logs).not.toContain(SECRET_KEY);
    });

    it('continues the same agent session: the request carries the earlier turns', async () => {
      const script = `${agent}-continue`;
      model.script(script, [
        { shell: 'echo again >> hello.txt && git commit -q -am "more hello"' },
        { answer: 'DONE again' },
      ]);
      const before = sessionOf(
        (await sb.json<{ sessions: SessionView[] }>(['list', '--all'])).sessions,
        'local/me/app#1',
      );
      const id = await sb.startDetached([
        'continue',
        'local/me/app#1',
        `More please [[${script}]]`,
      ]);
      const task = await sb.finished(id);
      expect(task.state, task.lastError ?? '').toBe('completed');
      const after = sessionOf(
        (await sb.json<{ sessions: SessionView[] }>(['list', '--all'])).sessions,
        'local/me/app#1',
      );
      expect(after.agentSessionId).toBe(before.agentSessionId);
      expect(git(after.worktreePath, ['log', '-1', '--format=%s']).trim()).toBe(
        agent === 'codex' ? 'DONE again' : 'more hello',
      );
      const body = JSON.stringify(model.requestsFor(script)[0]?.body);
      expect(body).toContain(`[[${agent}-start]]`);
      expect(body).toContain('DONE: added hello.txt');
      // A continued session has the instructions already: they are not sent again.
      expect(body.split('You are a coding agent run by kugetsu').length).toBe(2);
    });

    it('sends the PM agent a request without an issue; it starts a dev task with kugetsu', async () => {
      const dev = `${agent}-pm-dev`;
      const pm = `${agent}-pm`;
      model.script(dev, [
        { shell: 'echo pm > pm.txt && git add pm.txt && git commit -q -m "from pm"' },
        { answer: 'DONE pm' },
      ]);
      model.script(pm, [
        { shell: `kugetsu start local/me/app#7 "Write pm.txt [[${dev}]]" --detach` },
        { answer: 'Started local/me/app#7 for you.' },
      ]);
      const out = await sb.json<{ taskId: number; route: string }>([
        'delegate',
        `Someone should write pm.txt [[${pm}]]`,
      ]);
      expect(out.route).toBe('pm');
      const pmTask = await sb.finished(out.taskId);
      expect(pmTask.state, pmTask.lastError ?? '').toBe('completed');
      expect(pmTask.result).toBe('Started local/me/app#7 for you.');
      const devTask = await sb.until('the dev task the PM started', async () => {
        const tasks = await sb.tasks();
        return tasks.find((t) => t.issueRef === 'local/me/app#7');
      });
      expect(devTask.kind).toBe('dev');
      expect((await sb.finished(devTask.id)).state).toBe('completed');
      const pmBody = JSON.stringify(model.requestsFor(pm)[0]?.body);
      expect(pmBody).toContain("You are kugetsu's PM agent");
      expect(pmBody).toContain('kugetsu list --json');
    });
  });

  describe(`${agent} backend when things go wrong`, () => {
    let sb: Sandbox;

    beforeAll(async () => {
      sb = await world(agent, {
        // opencode refuses what lies outside the worktree itself, as the policy says.
        KUGETSU_APPROVAL_POLICY: `${UNATTENDED.KUGETSU_APPROVAL_POLICY},opencode:outside=deny`,
        // Long enough for opencode's start-up (no output for ~3 s), short enough for a test.
        KUGETSU_STALL_TIMEOUT_MINUTES: '0.15',
        // A stall is asked about first; nobody answers here, so the grace ends it (3 s).
        KUGETSU_STALL_GRACE_MINUTES: '0.05',
        KUGETSU_TASK_BUDGET: '3000',
      });
    }, 120_000);
    afterAll(() => sb.cleanup());

    it('a model that stops answering stalls the run; the whole process tree is killed', async () => {
      const script = `${agent}-hang`;
      model.script(script, [{ hang: true }]);
      const id = await sb.startDetached(['start', 'local/me/app#20', `Hang [[${script}]]`]);
      try {
        await sb.until('the hung request', () => model.requestsFor(script).length > 0, 60_000);
        // The whole tree of the first attempt, as it waits on the model.
        const tree = sb.taskProcesses(id);
        expect(tree.length).toBeGreaterThan(0);
        const task = await sb.until(
          'the stalled attempt',
          async () => {
            const t = await sb.store().tasks.get(id);
            return t?.lastError?.startsWith('stalled') === true && t;
          },
          60_000,
        );
        expect(task.lastError).toContain('KUGETSU_STALL_TIMEOUT_MINUTES');
        expect(tree.filter((pid) => running(pid))).toEqual([]);
      } finally {
        // A failure here must not leave a hung task retrying under the next test.
        await sb.cli(['queue', 'cancel', String(id)]);
        model.releaseHanging();
      }
    });

    it('refused credentials end the task at once, naming the backend, without retries', async () => {
      const script = `${agent}-auth`;
      model.script(script, [{ fail: 401, message: 'invalid api key' }]);
      const id = await sb.startDetached(['start', 'local/me/app#21', `Hello [[${script}]]`]);
      const task = await sb.finished(id);
      expect(task.state).toBe('error');
      expect(task.attempts).toBe(1);
      expect(task.lastError).toMatch(
        new RegExp(`^${agent}: the model endpoint refused the credentials`),
      );
      expect(task.lastError).not.toContain(SECRET_KEY);
    });

    // opencode retries a refused connection for about 70 s before it reports it: its parser is
    // tested on that report, not here.
    onlyIf(agent !== 'opencode')(
      'an unreachable model endpoint fails fast with what to fix, within the attempt limit',
      async () => {
        const dead = 'http://127.0.0.1:9';
        if (agent === 'claude') {
          await sb.ok(['env', 'set', 'ANTHROPIC_BASE_URL', dead, 'claude']);
        } else {
          const home = join(sb.dir, 'codex-dead');
          mkdirSync(home, { recursive: true });
          const config = readFileSync(join(sb.env['CODEX_HOME'] ?? '', 'config.toml'), 'utf8');
          writeFileSync(join(home, 'config.toml'), config.replace(model.url, dead));
          await sb.ok(['env', 'set', 'CODEX_HOME', home, 'codex']);
        }
        try {
          const started = Date.now();
          const id = await sb.startDetached(['start', 'local/me/app#24', 'Hello']);
          const task = await sb.finished(id);
          expect(task.state).toBe('error');
          expect(task.lastError).toMatch(new RegExp(`^${agent}: cannot reach the model endpoint`));
          // claude alone would retry for minutes and codex wait forever.
          expect(Date.now() - started).toBeLessThan(60_000);
          if (agent === 'codex') {
            // The other CODEX_HOME has no record of the base session: the first attempt found
            // that out, kugetsu forgot the base, and the next attempts started without it.
            expect(await sb.ok(['logs', String(id)])).toContain(
              'codex has no record of the base session',
            );
            expect((await sb.cli(['status'])).stdout.trim()).toBe('base_session_missing');
          }
        } finally {
          await sb.ok([
            'env',
            'rm',
            agent === 'claude' ? 'ANTHROPIC_BASE_URL' : 'CODEX_HOME',
            agent,
          ]);
        }
      },
    );

    it('a run that crosses the task budget is stopped with reason budget', async () => {
      const script = `${agent}-budget`;
      model.script(script, [
        { shell: 'echo 1 > one.txt' },
        { shell: 'echo 2 > two.txt' },
        { shell: 'echo 3 > three.txt' },
        { shell: 'echo 4 > four.txt' },
        { answer: 'never reached' },
      ]);
      const id = await sb.startDetached(['start', 'local/me/app#22', `Spend [[${script}]]`]);
      const task = await sb.finished(id);
      expect(task.state).toBe('error');
      expect(task.attempts).toBe(1);
      expect(task.lastError).toMatch(
        /^budget: the task used [0-9.]+k tokens of KUGETSU_TASK_BUDGET=3000/,
      );
      // Every agent reports usage as it goes (codex after each model response): cut short.
      expect(model.requestsFor(script).length).toBeLessThan(5);
      const events = await sb.json<{ events: { type: string; message: string }[] }>([
        'notify',
        'list',
        '--all',
      ]);
      expect(
        events.events.some((e) => e.type === 'task_error' && e.message.includes('budget')),
      ).toBe(true);
    });

    // claude asks kugetsu instead of refusing (approvals-claude.slow.test.ts); opencode refuses
    // by the policy's own deny rule (`opencode:outside=deny` above), natively.
    onlyIf(agent === 'opencode')(
      'a refused permission ends the attempt as needs_input; the reply continues the session',
      async () => {
        const script = `${agent}-denied`;
        const outside = join(sb.dir, 'outside.txt');
        model.script(script, [
          { shell: `rm -f ${outside}` },
          { answer: 'I was not allowed to delete it. Should I?' },
        ]);
        const id = await sb.startDetached(['start', 'local/me/app#23', `Clean up [[${script}]]`]);
        const task = await sb.finished(id);
        expect(task.state).toBe('needs_input');
        expect(task.result).toContain('refused permission for');
        expect(task.result).toContain(`rm -f ${outside}`);
        // The agent is told of the refusal and goes on to answer.
        expect(task.result).toContain('Should I?');
        const events = await sb.json<{ events: { type: string; taskId: number }[] }>([
          'notify',
          'list',
          '--all',
        ]);
        expect(events.events.some((e) => e.type === 'task_needs_input' && e.taskId === id)).toBe(
          true,
        );

        const before = sessionOf(
          (await sb.json<{ sessions: SessionView[] }>(['list', '--all'])).sessions,
          'local/me/app#23',
        );
        const reply = `${agent}-reply`;
        model.script(reply, [{ answer: 'Fine, leaving it.' }]);
        const next = await sb.finished(
          await sb.startDetached(['continue', 'local/me/app#23', `Leave it [[${reply}]]`]),
        );
        expect(next.state).toBe('completed');
        const after = sessionOf(
          (await sb.json<{ sessions: SessionView[] }>(['list', '--all'])).sessions,
          'local/me/app#23',
        );
        expect(after.agentSessionId).toBe(before.agentSessionId);
        expect(JSON.stringify(model.requestsFor(reply)[0]?.body)).toContain(`[[${script}]]`);
      },
    );
  });
}
