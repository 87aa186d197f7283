/** What a running task's status message shows while it runs. Pure. */
import type { Task } from '../../core/domain.js';
import { escapeHtml, formatDuration, plainLine, truncate } from './format.js';

const MAX_LINE = 300;

/** The last transcript line worth showing: not blank, not one of kugetsu's own notes. */
export function lastMeaningfulLine(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = plainLine(lines[i] ?? '').trim();
    if (
      line !== '' &&
      !line.startsWith('[kugetsu]') &&
      !line.startsWith('KUGETSU_AGENT_SESSION=')
    ) {
      return truncate(line, MAX_LINE);
    }
  }
  return null;
}

export function progressHtml(task: Task, now: number, line: string | null): string {
  const lines = [
    `▶️ <b>running</b> · <code>${escapeHtml(task.issueRef ?? 'PM agent')}</code>`,
    `#${task.id} · ${formatDuration(now - (task.startedAt ?? now))} · attempt ${task.attempts}/${task.maxAttempts}`,
  ];
  if (line !== null) lines.push(`<i>${escapeHtml(line)}</i>`);
  return lines.join('\n');
}
