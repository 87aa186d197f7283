#!/usr/bin/env node
/**
 * The demo's built-in agent: no model, no API key. It reads its task the way any
 * `command` agent does (stdin and KUGETSU_MESSAGE), reports a session id, "works" for a few
 * seconds, writes a note into the worktree and commits it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const env = process.env;
const message = env['KUGETSU_MESSAGE'] ?? readFileSync(0, 'utf8');
const taskId = env['KUGETSU_TASK_ID'] ?? '0';
const worktree = env['KUGETSU_WORKTREE'] ?? process.cwd();
const session = env['KUGETSU_AGENT_SESSION'] ?? `demo-${env['KUGETSU_SESSION_ID'] ?? taskId}`;
const stepMs = Number(env['KUGETSU_DEMO_STEP_MS'] ?? '700');

console.log(`KUGETSU_AGENT_SESSION=${session}`);
console.log(`reading the task: ${message.split('\n')[0] ?? ''}`);
for (const step of ['looking around the repository', 'planning the change', 'writing the change']) {
  await delay(stepMs);
  console.log(step);
}
// A task that says to publish asks first, as any agent of the user's own can: `kugetsu ask`
// waits for the answer from the phone or the CLI.
let published = '';
if (/\bpublish\b/i.test(message)) {
  console.log('asking before publishing');
  try {
    execFileSync(
      'kugetsu',
      ['ask', '--reason', 'the task says to publish it', 'publish the notes'],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    published = '\nPublished, as allowed.\n';
    console.log('allowed: publishing');
  } catch {
    console.log('not allowed: keeping it unpublished');
  }
}
const file = join(worktree, 'notes', `task-${taskId}.md`);
mkdirSync(join(worktree, 'notes'), { recursive: true });
writeFileSync(file, `# Task ${taskId}\n\n${message}\n${published}`);
execFileSync('git', ['add', 'notes'], { cwd: worktree });
execFileSync('git', ['commit', '--quiet', '-m', `notes: task ${taskId}`], { cwd: worktree });
await delay(stepMs);
console.log(`committed notes/task-${taskId}.md; done`);
