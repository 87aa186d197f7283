/**
 * The token budgets (KUGETSU_TASK_BUDGET, KUGETSU_DAILY_BUDGET) as pure checks: each returns why
 * a run must stop, or null. The caller reads the day's total from the store, so runs of other
 * tasks count towards it too.
 */
import type { Usage } from '../domain.js';
import { ZERO_USAGE, budgetTokens, formatTokens } from '../usage.js';

export interface Budgets {
  taskTokenBudget: number | null;
  dailyTokenBudget: number | null;
}

/** The task's own budget: what its earlier runs used plus what this run used so far. */
export function taskBudgetExceeded(
  budgets: Budgets,
  taskUsage: Usage | null,
  runUsage: Usage,
): string | null {
  const perTask = budgets.taskTokenBudget;
  if (perTask === null) return null;
  const used = budgetTokens(taskUsage ?? ZERO_USAGE) + budgetTokens(runUsage);
  return used >= perTask
    ? `budget: the task used ${formatTokens(used)} tokens of KUGETSU_TASK_BUDGET=${perTask}`
    : null;
}

/** The day's budget, given the budget tokens of every run started today (UTC). */
export function dailyBudgetExceeded(budgets: Budgets, todayTokens: number): string | null {
  const daily = budgets.dailyTokenBudget;
  if (daily === null || todayTokens < daily) return null;
  return `budget: ${formatTokens(todayTokens)} tokens used today (UTC) of KUGETSU_DAILY_BUDGET=${daily}`;
}

export function startOfUtcDay(now: number): number {
  return now - (now % 86_400_000);
}
