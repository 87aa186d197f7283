// The board: tasks by state (why each pending one waits, how long each running one has run and
// its last line, how each finished one ended) and the agents running against the cap.
import { get } from './api.js';
import { clock, h, section, tokens } from './dom.js';
import {
  clearQueue,
  delegateTask,
  queueWork,
  retryTask,
  stopTask,
  cancelTask,
} from './task-actions.js';
import { button } from './ui.js';

const FINISHED = 'completed,needs_input,error,cancelled';
const SHOWN_FINISHED = 30;

function title(task) {
  return h(
    'a',
    { href: `#/task/${task.id}`, class: 'title' },
    `#${task.id} ${task.issueRef ?? 'PM'}`,
  );
}

function card(task, ...body) {
  return h(
    'li',
    { class: `card ${task.state}`, 'data-task': task.id },
    h(
      'div',
      { class: 'row' },
      title(task),
      h('span', { class: `badge ${task.state}` }, task.state),
    ),
    h('p', { class: 'message' }, task.message),
    ...body,
  );
}

function pendingCard(task) {
  const reason =
    task.waitingForApproval !== null
      ? `waiting for approval #${task.waitingForApproval}`
      : (task.waitReason ?? 'waiting for the daemon to pick it up');
  return card(
    task,
    h('p', { class: 'reason' }, reason),
    h(
      'div',
      { class: 'buttons' },
      button('Cancel', () => cancelTask(task)),
    ),
  );
}

function runningCard(task, lastLine) {
  return card(
    task,
    h('p', { class: 'muted' }, 'running for ', clock(task.startedAt ?? task.createdAt)),
    h('pre', { class: 'last-line' }, lastLine ?? ''),
    h(
      'div',
      { class: 'buttons' },
      button('Stop', () => stopTask(task), 'danger'),
    ),
  );
}

function finishedCard(task) {
  const outcome = task.state === 'completed' ? task.result : (task.lastError ?? task.result);
  return card(
    task,
    h('p', { class: 'outcome' }, outcome ?? ''),
    task.usage === null ? null : h('p', { class: 'muted' }, tokens(task.usage)),
    task.state === 'completed'
      ? null
      : h(
          'div',
          { class: 'buttons' },
          button('Retry', () => retryTask(task)),
        ),
  );
}

async function lastLineOf(task) {
  const { runs } = await get(`/tasks/${task.id}`);
  const lines = runs.at(-1)?.lines ?? [];
  return lines.findLast((line) => line.trim() !== '') ?? null;
}

function column(name, tasks, render) {
  return h(
    'div',
    { class: 'column', 'data-column': name },
    h('h2', {}, `${name} (${tasks.length})`),
    h(
      'ul',
      { class: 'cards' },
      tasks.length === 0 ? h('li', { class: 'muted' }, 'none') : tasks.map(render),
    ),
  );
}

export async function boardView() {
  const [stats, live, finished] = await Promise.all([
    get('/queue/stats'),
    get('/tasks?state=pending,running'),
    get(`/tasks?state=${FINISHED}`),
  ]);
  const pending = live.tasks.filter((t) => t.state === 'pending');
  const running = live.tasks.filter((t) => t.state === 'running');
  const lastLines = new Map(
    await Promise.all(running.map(async (t) => [t.id, await lastLineOf(t).catch(() => null)])),
  );
  const done = finished.tasks.slice(-SHOWN_FINISHED).reverse();
  return h(
    'div',
    { class: 'board' },
    section(
      'Agents',
      h(
        'p',
        { class: 'cap', 'data-cap': `${stats.slotsHeld}/${stats.maxConcurrentAgents}` },
        `${stats.slotsHeld} of ${stats.maxConcurrentAgents} agents running · `,
        stats.daemon === null ? 'daemon not running' : `daemon pid ${stats.daemon}`,
      ),
      h(
        'div',
        { class: 'buttons' },
        button('Delegate…', delegateTask, 'primary'),
        button('Start…', () => queueWork('start')),
        button('Clear finished…', clearQueue),
      ),
    ),
    h(
      'div',
      { class: 'columns' },
      column('Pending', pending, pendingCard),
      column('Running', running, (t) => runningCard(t, lastLines.get(t.id))),
      column('Finished', done, finishedCard),
    ),
  );
}
