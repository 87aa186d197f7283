import { resumeTask } from '../../../core/operations/tasks.js';
import { taskCommand } from './shared-task.js';

export const run = taskCommand('resume', false, (ctx, ref, message, options) =>
  resumeTask(ctx, ref, message, options),
);
