// Sessions: each issue's branch, pull request and last result, and what can be done to it.
import { get } from './api.js';
import { h, section, tokens, webLink } from './dom.js';
import {
  destroySession,
  mergeSession,
  pruneSessions,
  queueWork,
  stopTask,
} from './task-actions.js';
import { button } from './ui.js';

function pullRequest(pr) {
  return pr === null ? 'no pull request' : webLink(pr.url, `PR #${pr.number} (${pr.state})`);
}

/** `task` is the session's running or newest task in full: the list carries only its state. */
function sessionCard(s, task) {
  const used = s.state === 'used';
  const buttons = [
    button('Continue…', () => queueWork('continue', s.issueRef)),
    button('Resume…', () => queueWork('resume', s.issueRef)),
  ];
  if (used && task !== null)
    buttons.push(button('Stop', () => stopTask({ id: task.id, issueRef: s.issueRef }), 'danger'));
  if (s.pullRequest?.state === 'open' && !used)
    buttons.push(button('Merge…', () => mergeSession(s), 'danger'));
  buttons.push(button('Destroy…', () => destroySession(s), 'danger'));
  return h(
    'li',
    { class: `card ${s.state}`, 'data-session': s.issueRef },
    h(
      'div',
      { class: 'row' },
      h('strong', {}, s.issueRef),
      h('span', { class: `badge ${s.state}` }, s.state),
    ),
    h('p', {}, h('code', {}, s.branch), ' · ', pullRequest(s.pullRequest)),
    task === null
      ? null
      : h(
          'p',
          { class: 'outcome' },
          h('a', { href: `#/task/${task.id}` }, `#${task.id} ${task.state ?? ''}`),
          ': ',
          task.result ?? task.lastError ?? '',
        ),
    h(
      'p',
      { class: 'muted' },
      `${s.agent} · ${tokens(s.usage)}`,
      s.worktreeExists ? '' : ' · worktree gone',
    ),
    h('div', { class: 'buttons' }, buttons),
  );
}

export async function sessionsView() {
  const [{ sessions }, { tasks }] = await Promise.all([
    get('/sessions?all=true'),
    get('/tasks?all=true'),
  ]);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  return section(
    'Sessions',
    h(
      'div',
      { class: 'buttons' },
      button('Start…', () => queueWork('start'), 'primary'),
      button('Prune…', pruneSessions),
    ),
    h(
      'ul',
      { class: 'cards' },
      sessions.length === 0
        ? h('li', { class: 'muted' }, 'no sessions')
        : sessions.map((s) =>
            sessionCard(s, s.task === null ? null : (byId.get(s.task.id) ?? s.task)),
          ),
    ),
  );
}
