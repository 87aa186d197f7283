/** An agent run's facts as the runner's verdict reads them: a clean exit 0 unless told. */
import type { AgentReport } from '../../core/agents/agent-output.js';
import type { AgentRunFacts } from '../../core/runner/attempt-verdict.js';

export function runFacts(
  over: Partial<AgentRunFacts> = {},
  said: Partial<AgentReport> = {},
): AgentRunFacts {
  return {
    exitCode: 0,
    signal: null,
    stopReason: null,
    spawnError: null,
    driverError: null,
    overBudget: null,
    fatal: null,
    lastLine: null,
    report: {
      sessionId: 'sess-1',
      usage: null,
      finalText: 'Fixed the parser.',
      question: null,
      error: null,
      fatal: null,
      sessionTotals: null,
      ...said,
    },
    ...over,
  };
}
