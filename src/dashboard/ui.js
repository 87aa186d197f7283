// Confirmations, questions and messages: the one <dialog> of the page and the flash line.
import { h } from './dom.js';

let refresh = () => {};

/** main.js says how the page is redrawn after an action. */
export function onChange(fn) {
  refresh = fn;
}

export function flash(text, kind = 'ok') {
  const el = document.getElementById('flash');
  el.textContent = text;
  el.className = kind;
  el.hidden = false;
}

/**
 * Asks in a modal dialog. `fields` are inputs ({ name, label, value, type: 'text' | 'textarea'
 * | 'checkbox' | 'select', options, required }); resolves to their values, or null on Cancel.
 */
export function ask(title, { detail = null, fields = [], confirm = 'OK', danger = false } = {}) {
  const dialog = document.getElementById('dialog');
  dialog.replaceChildren();
  const inputs = fields.map((f) => {
    let input;
    if (f.type === 'textarea')
      input = h('textarea', { name: f.name, rows: 4, required: f.required });
    else if (f.type === 'select')
      input = h(
        'select',
        { name: f.name },
        f.options.map((o) => h('option', { value: o }, o === '' ? '(default)' : o)),
      );
    else input = h('input', { name: f.name, type: f.type ?? 'text', required: f.required });
    if (f.type === 'checkbox') input.checked = f.value === true;
    else if (f.value !== undefined) input.value = f.value;
    return { f, input };
  });
  return new Promise((resolve) => {
    const finish = (values) => {
      dialog.close();
      resolve(values);
    };
    const ok = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, confirm);
    const cancel = h('button', { type: 'button', onclick: () => finish(null) }, 'Cancel');
    const form = h(
      'form',
      {
        onsubmit: (e) => {
          e.preventDefault();
          const values = {};
          for (const { f, input } of inputs)
            values[f.name] = f.type === 'checkbox' ? input.checked : input.value;
          finish(values);
        },
      },
      h('h3', {}, title),
      detail === null ? null : h('p', { class: 'detail' }, detail),
      inputs.map(({ f, input }) =>
        h('label', { class: f.type === 'checkbox' ? 'check' : '' }, f.label, input),
      ),
      h('div', { class: 'buttons' }, cancel, ok),
    );
    dialog.append(form);
    dialog.addEventListener('cancel', () => resolve(null), { once: true });
    dialog.showModal();
  });
}

export const confirmAction = (title, detail, confirm, danger = false) =>
  ask(title, { detail, confirm, danger });

/** Runs an API call for a button: its answer (or its error) is told, and the page redrawn. */
export async function act(what, call, message = () => `${what}: done`) {
  try {
    const result = await call();
    flash(message(result));
    return result;
  } catch (err) {
    flash(`${what}: ${err.message}`, 'error');
    return null;
  } finally {
    refresh();
  }
}

/**
 * A button; one that changes something is marked, so a read-only token's dashboard hides it
 * rather than offering what the API would refuse.
 */
export function button(label, onclick, kind = '', { reads = false } = {}) {
  return h('button', { type: 'button', class: kind, onclick, 'data-writes': !reads }, label);
}
