import { describe, expect, it } from 'vitest';
import { currentProcess, isAlive, sameProcess } from '../core/process-info.js';

describe('process identity', () => {
  const gone = { pid: 2 ** 22 + 17, start: '1' };

  it('names its PID namespace, and counts a process of another one as alive', () => {
    const me = currentProcess();
    expect(me.ns).toMatch(/^pid:\[\d+\]$/);
    expect(isAlive(me)).toBe(true);
    expect(isAlive(gone)).toBe(false);
    expect(isAlive({ ...gone, ns: me.ns })).toBe(false);
    // From here a foreign pid names nothing, or a stranger: never take it for dead.
    expect(isAlive({ ...gone, ns: 'pid:[1]' })).toBe(true);
  });

  it('tells the same pid in two namespaces apart', () => {
    const me = currentProcess();
    expect(sameProcess(me, { ...me })).toBe(true);
    expect(sameProcess(me, { ...me, ns: 'pid:[1]' })).toBe(false);
  });
});
