// A task's page: its attempts with their usage and outcome, and its transcript, live.
import { get } from './api.js';
import { clock, h, section, table, tokens, when } from './dom.js';
import { follow } from './stream.js';
import { cancelTask, queueWork, retryTask, stopTask } from './task-actions.js';
import { button } from './ui.js';

function actions(task) {
  const buttons = [];
  if (task.state === 'running') buttons.push(button('Stop', () => stopTask(task), 'danger'));
  if (task.state === 'pending') buttons.push(button('Cancel', () => cancelTask(task), 'danger'));
  if (['error', 'cancelled', 'needs_input'].includes(task.state))
    buttons.push(button('Retry', () => retryTask(task)));
  if (task.issueRef !== null && task.state !== 'running' && task.state !== 'pending')
    buttons.push(button('Continue…', () => queueWork('continue', task.issueRef)));
  return h('div', { class: 'buttons' }, buttons);
}

function summary({ task, runs }) {
  return h(
    'div',
    {},
    h('h1', {}, `Task #${task.id} `, h('span', { class: `badge ${task.state}` }, task.state)),
    h('p', { class: 'message' }, task.message),
    h(
      'dl',
      {},
      h('dt', {}, 'Issue'),
      h('dd', {}, task.issueRef ?? 'PM agent'),
      h('dt', {}, 'Agent'),
      h('dd', {}, `${task.agent}${task.model === null ? '' : ` (${task.model})`}`),
      h('dt', {}, 'Queued'),
      h('dd', {}, when(task.createdAt)),
      h('dt', {}, task.state === 'running' ? 'Running for' : 'Finished'),
      h('dd', {}, task.state === 'running' ? clock(task.startedAt) : when(task.finishedAt)),
      h('dt', {}, 'Usage'),
      h('dd', {}, tokens(task.usage)),
      h('dt', {}, 'Outcome'),
      h('dd', { class: 'outcome' }, task.result ?? task.lastError ?? task.waitReason ?? '—'),
    ),
    actions(task),
    section(
      `Attempts (${runs.length} of ${task.maxAttempts})`,
      table(
        ['#', 'mode', 'started', 'finished', 'exit', 'outcome', 'usage'],
        runs.map((r) => [
          String(r.attempt),
          r.mode,
          when(r.startedAt),
          when(r.finishedAt),
          r.exitCode === null ? '—' : String(r.exitCode),
          r.outcome ?? '—',
          tokens(r.usage),
        ]),
      ),
    ),
  );
}

export function taskView(id) {
  const head = h('div', {}, h('p', { class: 'muted' }, 'loading…'));
  const lines = h('pre', { class: 'transcript', 'data-transcript': id });
  const state = h('span', { class: 'muted' });
  const node = h('div', { class: 'task' }, head, section('Transcript', state, lines));
  let attempt = null;
  const stream = follow(`/tasks/${id}/transcript/stream`, {
    onMessage(event, data) {
      if (event === 'lines') {
        if (data.attempt !== attempt) {
          attempt = data.attempt;
          lines.append(h('span', { class: 'attempt' }, `— attempt ${attempt} —\n`));
        }
        lines.append(document.createTextNode(data.lines.map((l) => `${l}\n`).join('')));
      } else if (event === 'end') state.textContent = 'the task has ended';
    },
    onState(s) {
      state.textContent = { live: 'live', reconnecting: 'reconnecting…', failed: 'unavailable' }[s];
    },
  });
  return {
    node,
    async update() {
      head.replaceChildren(summary(await get(`/tasks/${id}`)));
    },
    dispose: () => stream.close(),
  };
}
