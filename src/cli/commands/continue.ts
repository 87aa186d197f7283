import { continueTask } from '../../../core/operations/tasks.js';
import { taskCommand } from './shared-task.js';

export const run = taskCommand('continue', true, (ctx, ref, message, options) =>
  continueTask(ctx, ref, message ?? '', options),
);
