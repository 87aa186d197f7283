/**
 * The three output parsers against output recorded from the real CLIs (opencode 1.18,
 * claude 2.1, codex 0.169's app-server) run against the scripted model server: session ids from the
 * agent's own events, usage, the final answer, refused permissions and refused credentials.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentOutputParser, AgentReport, LineReading } from '../core/agents/agent-output.js';
import { claudeOutputParser } from '../core/agents/claude/claude-output.js';
import { codexOutputParser } from '../core/agents/codex/codex-output.js';
import { opencodeOutputParser } from '../core/agents/opencode/opencode-output.js';
import { plainOutputParser } from '../core/agents/plain-output.js';
import { FIXTURES } from './helpers/sandbox.js';

function feed(
  parser: AgentOutputParser,
  name: string,
): { report: AgentReport; readings: LineReading[] } {
  const text = readFileSync(join(FIXTURES, 'agent-output', name), 'utf8');
  const readings = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => parser.line(l));
  return { report: parser.report(), readings };
}

const shown = (readings: LineReading[]): string[] => readings.flatMap((r) => r.display);

describe('opencode output', () => {
  it('reads the session, the usage of every step, the answer and the commands', () => {
    const { report, readings } = feed(opencodeOutputParser(), 'opencode-commit.jsonl');
    expect(report.sessionId).toBe('ses_dee56574effebNmeEOWTu9tnmv');
    expect(report.usage).toEqual({
      inputTokens: 2400,
      outputTokens: 160,
      cacheReadTokens: 600,
      cacheWriteTokens: 0,
      costUsd: 0,
    });
    expect(report.finalText).toBe('DONE: committed hello.txt');
    expect(report.question).toBeNull();
    expect(shown(readings)[0]).toMatch(/^\$ echo hello > hello.txt/);
  });

  it('turns a refused permission into a question', () => {
    const { report } = feed(opencodeOutputParser(), 'opencode-denied.jsonl');
    expect(report.question).toContain('refused permission for: bash rm -rf /work/zzz');
  });

  it('stops at refused credentials, naming the backend and the fix', () => {
    const { report, readings } = feed(opencodeOutputParser(), 'opencode-auth.jsonl');
    expect(readings.some((r) => r.fatal !== undefined)).toBe(true);
    expect(report.fatal?.kind).toBe('auth');
    expect(report.fatal?.message).toMatch(/^opencode: the model endpoint refused the credentials/);
    expect(report.fatal?.message).toContain('opencode auth login');
  });
});

describe('claude output', () => {
  it('reads the session from init, the final usage and cost, the answer', () => {
    const { report, readings } = feed(claudeOutputParser(), 'claude-commit.jsonl');
    expect(report.sessionId).toBe('75f93a43-567e-4ae4-8e85-d76acc9335d0');
    expect(report.usage).toMatchObject({
      inputTokens: 2400,
      outputTokens: 160,
      cacheReadTokens: 600,
    });
    expect(report.usage?.costUsd).toBeGreaterThan(0);
    expect(report.finalText).toBe('DONE: committed hello.txt');
    // Live usage arrives with each assistant message, before the result.
    expect(readings.filter((r) => r.usage !== undefined).length).toBeGreaterThan(1);
  });

  it('turns permission_denials into a question naming the command', () => {
    const { report } = feed(claudeOutputParser(), 'claude-denied.jsonl');
    expect(report.question).toContain('refused permission for: $ rm -rf /work/nothing');
  });

  it('stops on the first 401 instead of waiting out claude’s ten retries', () => {
    const { report, readings } = feed(claudeOutputParser(), 'claude-auth.jsonl');
    const firstFatal = readings.findIndex((r) => r.fatal !== undefined);
    expect(firstFatal).toBe(1);
    expect(report.fatal?.message).toContain('ANTHROPIC_API_KEY');
  });
});

describe('codex output (app-server)', () => {
  it('reads the thread id, the answer, the command and the usage (cached tokens apart)', () => {
    const { report, readings } = feed(codexOutputParser(null), 'codex-app-commit.jsonl');
    expect(report.sessionId).toBe('01a23c0e-3bc2-7ea1-9989-b4aa63fca206');
    expect(report.finalText).toBe('DONE: wrote hello.txt');
    expect(report.usage).toEqual({
      inputTokens: 2400,
      outputTokens: 160,
      cacheReadTokens: 600,
      cacheWriteTokens: 0,
      costUsd: null,
    });
    // The command as the model asked for it, not codex's `/bin/bash -lc '…'` wrapper.
    expect(shown(readings)).toContain('$ echo hello > hello.txt && cat hello.txt');
    expect(shown(readings)).toContain('  hello');
    // Usage is reported after every model response, not only at the end of the turn.
    expect(readings.filter((r) => r.usage !== undefined).length).toBe(2);
    expect(report.error).toBeNull();
  });

  it('counts only this run when a resumed thread reports its running total', () => {
    const before = {
      inputTokens: 1200,
      outputTokens: 80,
      cacheReadTokens: 300,
      cacheWriteTokens: 0,
      costUsd: null,
    };
    const { report, readings } = feed(codexOutputParser(before), 'codex-app-resumed.jsonl');
    // On resume codex first repeats the thread's total so far: nothing of it is this run's.
    expect(readings.find((r) => r.usage !== undefined)?.usage?.outputTokens).toBe(0);
    expect(report.usage).toMatchObject({ inputTokens: 2400, outputTokens: 160 });
    expect(report.sessionTotals).toMatchObject({ inputTokens: 3600, outputTokens: 240 });
    expect(report.finalText).toBe('DONE again');
  });

  it('shows a declined command as declined and is not an error', () => {
    const { report, readings } = feed(codexOutputParser(null), 'codex-app-declined.jsonl');
    expect(shown(readings)).toEqual(
      expect.arrayContaining(['$ rm -rf /work/zzz', '  (declined)']) as unknown,
    );
    expect(report.finalText).toBe('I was not allowed to delete it.');
    expect(report.error).toBeNull();
    expect(report.question).toBeNull();
  });

  it("a question codex asked is the driver's; the answer reaches the turn", () => {
    const { report } = feed(codexOutputParser(null), 'codex-app-question.jsonl');
    expect(report.finalText).toBe('DONE: blue it is');
    expect(report.question).toBeNull();
  });

  it('stops at a 401', () => {
    const { report, readings } = feed(codexOutputParser(null), 'codex-app-auth.jsonl');
    expect(report.fatal?.kind).toBe('auth');
    expect(report.fatal?.message).toContain('env_key');
    // The `error` notification comes before the failed turn: that is where it stops.
    expect(readings.filter((r) => r.fatal !== undefined)).toHaveLength(1);
  });

  it('a thread codex has no record of is a lost session, naming it', () => {
    const { report } = feed(codexOutputParser(null), 'codex-app-lost.jsonl');
    expect(report.fatal).toEqual({
      kind: 'session_lost',
      sessionId: '01a23c02-0034-76b2-9453-7d3e1258fed6',
      message: 'codex has no record of session 01a23c02-0034-76b2-9453-7d3e1258fed6',
    });
  });
});

describe('unreachable endpoints and missing settings', () => {
  it('opencode: a connection failure it gave up on stops the attempt, naming the URL', () => {
    const { report } = feed(opencodeOutputParser(), 'opencode-unreachable.jsonl');
    expect(report.fatal).toEqual({
      kind: 'unreachable',
      message: expect.stringMatching(
        /^opencode: cannot reach the model endpoint \(http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions: Cannot connect/,
      ) as unknown,
    });
  });

  it('claude: the third unanswered attempt stops it, not the tenth', () => {
    const { readings } = feed(claudeOutputParser(), 'claude-unreachable.jsonl');
    expect(readings.map((r) => r.fatal?.kind ?? null)).toEqual([null, null, null, 'unreachable']);
  });

  it('codex: waiting for the network stops it at the first retry', () => {
    const lines = readFileSync(
      join(FIXTURES, 'agent-output', 'codex-app-unreachable.jsonl'),
      'utf8',
    ).split('\n');
    const { readings, report } = feed(codexOutputParser(null), 'codex-app-unreachable.jsonl');
    const first = readings.findIndex((r) => r.fatal !== undefined);
    expect(lines[first]).toContain('"willRetry":true');
    expect(report.fatal?.message).toMatch(/^codex: cannot reach the model endpoint \(Reconnecting/);
    expect(report.fatal?.message).toContain('base_url in CODEX_HOME/config.toml');
  });

  it('missing credentials are settings to fix, not attempts to repeat', () => {
    expect(feed(codexOutputParser(null), 'codex-app-missing-key.jsonl').report.fatal).toEqual({
      kind: 'config',
      message: 'codex: SCRIPTED_API_KEY is not set: `kugetsu env set SCRIPTED_API_KEY - codex`',
    });
    expect(feed(claudeOutputParser(), 'claude-not-logged-in.jsonl').report.fatal?.message).toMatch(
      /^claude: not logged in: set ANTHROPIC_API_KEY/,
    );
  });
});

describe('plain command output', () => {
  it('takes the marker line as the session and the last line as the answer', () => {
    const parser = plainOutputParser();
    parser.line('working');
    parser.line('KUGETSU_AGENT_SESSION=ses_42');
    parser.line('echo KUGETSU_AGENT_SESSION=ses_evil');
    parser.line('all done');
    expect(parser.report()).toMatchObject({
      sessionId: 'ses_42',
      finalText: 'all done',
      usage: null,
    });
  });
});
