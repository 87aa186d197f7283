/**
 * Every setting of kugetsu (DESIGN.md §1), declared once. From this table come the validation
 * (core/config.ts), the `Config` type, and the config.env that `kugetsu init` writes
 * (core/config/render.ts), which .env.example repeats.
 *
 * The entries live with their job under settings/; to add a setting, add one entry where it
 * belongs. The order here is the order of config.env, of the docs and of validation (the first
 * bad key is reported). Pure.
 */
import { CAPACITY_SETTINGS } from './settings/capacity.js';
import { AGENT_SETTINGS } from './settings/agents.js';
import { DAEMON_SETTINGS } from './settings/daemon.js';
import { TELEGRAM_SETTINGS } from './settings/telegram.js';
import { INTERFACE_SETTINGS } from './settings/interfaces.js';
import type { Setting } from './settings/setting.js';

export { VERBOSITY_LEVELS, type Setting, type Verbosity } from './settings/setting.js';

export const SETTINGS = [
  ...CAPACITY_SETTINGS,
  ...AGENT_SETTINGS,
  ...DAEMON_SETTINGS,
  ...TELEGRAM_SETTINGS,
  ...INTERFACE_SETTINGS,
] as const satisfies readonly Setting[];

/** kugetsu's own secrets: withheld from agents and scrubbed from everything it writes. */
export const SECRET_SETTINGS: readonly { key: string; field: string }[] = SETTINGS.filter(
  (s) => 'secret' in s && s.secret === true,
);
