/** Tokens and cost per UTC day and agent, from the runs kept in the store. Pure. */
import type { AgentName, Usage } from './domain.js';
import { ZERO_USAGE, addUsage } from './usage.js';

export interface UsageDay {
  /** `YYYY-MM-DD`, UTC: the day a run started. */
  day: string;
  agent: AgentName | 'unknown';
  runs: number;
  usage: Usage;
}

export interface UsageReport {
  days: UsageDay[];
  total: Usage;
}

export function usageByDay(
  runs: readonly { taskId: number; startedAt: number; usage: Usage | null }[],
  agentOf: (taskId: number) => AgentName | undefined,
  since: number,
): UsageReport {
  const byKey = new Map<string, UsageDay>();
  let total = ZERO_USAGE;
  for (const run of runs) {
    if (run.startedAt < since) continue;
    const day = new Date(run.startedAt).toISOString().slice(0, 10);
    const agent = agentOf(run.taskId) ?? 'unknown';
    const key = `${day} ${agent}`;
    const entry = byKey.get(key) ?? { day, agent, runs: 0, usage: ZERO_USAGE };
    const usage = run.usage ?? ZERO_USAGE;
    byKey.set(key, { ...entry, runs: entry.runs + 1, usage: addUsage(entry.usage, usage) });
    total = addUsage(total, usage);
  }
  const days = [...byKey.values()].sort((a, b) =>
    a.day === b.day ? a.agent.localeCompare(b.agent) : a.day.localeCompare(b.day),
  );
  return { days, total };
}
