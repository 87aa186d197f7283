/**
 * What a listing of the queue says of a pending task no claim has judged. A claim reads only
 * the head of the queue and records why those tasks wait; a task further back has no reason
 * recorded, and its truthful reason is its place in line, computed here when the queue is read.
 */
import type { Task } from '../domain.js';

/**
 * `tasks` in id order, holding every pending task (a listing of the pending ones, or of all):
 * each pending task without a recorded reason, behind others of its kind, says how many.
 */
export function withPlaceInLine(tasks: readonly Task[]): Task[] {
  const ahead = { dev: 0, pm: 0 };
  return tasks.map((task) => {
    if (task.state !== 'pending') return task;
    const n = ahead[task.kind];
    ahead[task.kind] += 1;
    if (task.waitReason !== null || n === 0) return task;
    const kind = task.kind === 'pm' ? 'PM' : 'dev';
    return { ...task, waitReason: `in line behind ${n} earlier ${kind} task${n === 1 ? '' : 's'}` };
  });
}
