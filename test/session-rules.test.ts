import { describe, expect, it } from 'vitest';
import type { Session } from '../core/domain.js';
import {
  assertCanContinue,
  assertCanStop,
  effectiveMode,
  resumeMessage,
} from '../core/session-rules.js';

function session(overrides: Partial<Session>): Session {
  return {
    issueRef: 'h/o/r#1',
    workspaceKey: 'h-o-r-1',
    serverName: 'h',
    repoPath: 'o/r',
    worktreePath: '/w',
    branch: 'kugetsu/h-o-r-1',
    state: 'idle',
    agent: 'command',
    agentSessionId: null,
    lastMessage: 'earlier',
    lastTaskId: 1,
    createdAt: 0,
    updatedAt: 0,
    pullRequest: null,
    issueState: null,
    ...overrides,
  };
}

describe('session rules', () => {
  it('turns a start into continue or resume when the session already exists', () => {
    expect(effectiveMode('start', null)).toBe('start');
    expect(effectiveMode('start', session({ state: 'left' }))).toBe('resume');
    expect(effectiveMode('start', session({ agentSessionId: 'abc' }))).toBe('continue');
    expect(effectiveMode('start', session({}))).toBe('start');
    expect(effectiveMode('continue', session({}))).toBe('continue');
  });

  it('resumes only a left session, with the stored message by default', () => {
    expect(() => resumeMessage('h/o/r#1', null, undefined)).toThrow('session h/o/r#1 not found');
    expect(() => resumeMessage('h/o/r#1', session({ state: 'idle' }), undefined)).toThrow(
      'cannot be resumed',
    );
    expect(resumeMessage('h/o/r#1', session({ state: 'left' }), undefined)).toBe('earlier');
    expect(resumeMessage('h/o/r#1', session({ state: 'left' }), 'new')).toBe('new');
    expect(() =>
      resumeMessage('h/o/r#1', session({ state: 'left', lastMessage: null }), undefined),
    ).toThrow('no stored message');
  });

  it('stops only a session in use, and continues only an existing one', () => {
    expect(() => assertCanStop('h/o/r#1', session({ state: 'idle' }))).toThrow('is not in use');
    expect(() => assertCanStop('h/o/r#1', session({ state: 'used' }))).not.toThrow();
    expect(() => assertCanContinue('h/o/r#1', null)).toThrow('not found');
  });
});
