/** A task's transcript in a chat: the last lines in `<pre>` blocks, or the whole as a file. Pure. */
import { plainLine, preBlocks } from './format.js';

/** Lines `/logs` and the Logs button show. */
export const LOG_LINES = 40;

export function noTranscriptText(taskId: number): string {
  return `Task #${taskId} has no transcript yet.`;
}

/** The last lines, as messages within Telegram's limit. */
export function logBlocks(lines: readonly string[]): string[] {
  return preBlocks(lines.slice(-LOG_LINES).map(plainLine).join('\n'));
}

export function transcriptFile(
  taskId: number,
  lines: readonly string[],
): { name: string; data: Buffer; caption: string } {
  return {
    name: `task-${taskId}.log`,
    data: Buffer.from(lines.map(plainLine).join('\n') + '\n'),
    caption: `Transcript of task #${taskId}`,
  };
}
