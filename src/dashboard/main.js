// The dashboard's shell: logging in, the views behind the hash routes, and live updates from
// the event stream (no reload).
import { ApiError, forgetToken, get, redeemLoginCode, saveToken, token } from './api.js';
import { approvalsView } from './approvals.js';
import { boardView } from './board.js';
import { elapsed, h } from './dom.js';
import { homeView } from './home.js';
import { sessionsView } from './sessions.js';
import { follow } from './stream.js';
import { taskView } from './task.js';
import { flash, onChange } from './ui.js';
import { usageView } from './usage.js';

const ROUTES = [
  ['board', 'Board', boardView],
  ['sessions', 'Sessions', sessionsView],
  ['approvals', 'Approvals', approvalsView],
  ['usage', 'Usage', usageView],
  ['home', 'Home', homeView],
];
/** Running tasks' last lines are not events: the board looks again this often. */
const BOARD_POLL_MS = 3000;

const view = document.getElementById('view');
let current = null;
let events = null;
let pending = null;

/**
 * Shows the view of `hash`. A simple view is a function answering its node, drawn anew on each
 * update; a task page keeps its transcript stream between updates.
 */
function mount(hash) {
  current?.dispose?.();
  document.getElementById('flash').hidden = true;
  const task = /^#\/task\/([1-9][0-9]*)$/.exec(hash);
  let here = null;
  if (task !== null) {
    current = taskView(Number(task[1]));
    view.replaceChildren(current.node);
  } else {
    const route = ROUTES.find(([name]) => hash === `#/${name}`) ?? ROUTES[0];
    here = `#/${route[0]}`;
    const container = h('div', { 'data-view': route[0] });
    view.replaceChildren(container);
    const timer = route[0] === 'board' ? setInterval(update, BOARD_POLL_MS) : null;
    current = {
      node: container,
      update: async () => container.replaceChildren(await route[2]()),
      dispose: () => clearInterval(timer),
    };
  }
  for (const link of document.querySelectorAll('#nav a'))
    link.classList.toggle('here', link.getAttribute('href') === here);
  void update();
}

/**
 * Redraws the current view. One redraw at a time: a call during one runs once more after it,
 * so the view mounted meanwhile (or news that came in) is drawn too.
 */
let again = false;
function update() {
  if (pending !== null) {
    again = true;
    return pending;
  }
  const shown = current;
  pending = (async () => {
    try {
      await shown?.update();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return logout('the token was refused');
      if (shown === current) view.replaceChildren(h('p', { class: 'error' }, err.message));
    } finally {
      pending = null;
      if (again) {
        again = false;
        void update();
      }
    }
  })();
  return pending;
}

let queued = null;
function scheduleUpdate() {
  clearTimeout(queued);
  queued = setTimeout(update, 100);
}

function logout(why) {
  events?.close();
  events = null;
  current?.dispose?.();
  current = null;
  forgetToken();
  showLogin(why);
}

function showLogin(error = null) {
  document.getElementById('nav').replaceChildren();
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    required: true,
  });
  view.replaceChildren(
    h(
      'form',
      {
        class: 'login',
        onsubmit: async (e) => {
          e.preventDefault();
          saveToken(input.value.trim());
          await start();
        },
      },
      h('h1', {}, 'Log in'),
      h(
        'p',
        {},
        'Paste a token from `kugetsu api token create NAME`, or open a link from `kugetsu api login-link`.',
      ),
      error === null ? null : h('p', { class: 'error' }, error),
      h('label', {}, 'Token', input),
      h('button', { type: 'submit', class: 'primary' }, 'Log in'),
    ),
  );
}

async function start() {
  let me;
  try {
    me = await get('/auth/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return logout('the token was refused');
    throw err;
  }
  document.body.classList.toggle('read-only', me.readOnly);
  document
    .getElementById('nav')
    .replaceChildren(
      ...ROUTES.map(([name, label]) => h('a', { href: `#/${name}` }, label)),
      me.readOnly ? h('span', { class: 'badge', title: me.name }, 'read-only') : null,
      h('button', { type: 'button', class: 'link', onclick: () => logout(null) }, 'Log out'),
    );
  const live = document.getElementById('live');
  events = follow('/events/stream', {
    onMessage: (event) => {
      if (event !== 'ready') scheduleUpdate();
    },
    onState: (state) => {
      live.textContent =
        state === 'live' ? '● live' : state === 'failed' ? '○ offline' : '○ reconnecting…';
      live.dataset.state = state;
      if (state === 'live') scheduleUpdate();
    },
  });
  mount(location.hash);
}

window.addEventListener('hashchange', () => {
  if (token() !== null && events !== null) mount(location.hash);
});
setInterval(() => {
  for (const el of document.querySelectorAll('[data-since]'))
    el.textContent = elapsed(Number(el.dataset.since));
}, 1000);
onChange(scheduleUpdate);

async function boot() {
  const login = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (login !== null) {
    // The code is spent either way: it must not stay in the address bar or the history.
    history.replaceState(null, '', `${location.pathname}#/board`);
    try {
      await redeemLoginCode(login[1]);
    } catch (err) {
      return showLogin(`login link: ${err.message}`);
    }
  }
  if (token() === null) return showLogin();
  await start();
}

boot().catch((err) => flash(err.message, 'error'));
