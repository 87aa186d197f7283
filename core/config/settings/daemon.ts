/** The daemon's machine and rhythm, and the defaults a request without a server or repository gets. */
import * as t from '../value-types.js';
import type { Setting } from './setting.js';
import { VERBOSITY_LEVELS } from './setting.js';

export const DAEMON_SETTINGS = [
  {
    key: 'KUGETSU_MIN_FREE_MEMORY_MB',
    field: 'minFreeMemoryMb',
    type: t.wholeNumber({ min: 0, unit: 'MB' }),
    default: '512',
    doc: 'No agent starts while less memory than this is available (MemAvailable); its task waits, and `queue list` says why. 0 turns the check off.',
  },
  {
    key: 'KUGETSU_TEMP_DIR',
    field: 'tempDir',
    type: t.absolutePath(),
    doc: "Directory for temporary files, such as the demo's home (default: the system temp dir).",
  },
  {
    key: 'KUGETSU_VERBOSITY',
    field: 'verbosity',
    type: t.oneOf(VERBOSITY_LEVELS),
    default: 'default',
    doc: `How much kugetsu prints: ${VERBOSITY_LEVELS.join(', ')}.`,
  },
  {
    key: 'QUEUE_DAEMON_INTERVAL_MINUTES',
    field: 'sweepIntervalMs',
    type: t.minutes(),
    default: '5',
    doc: 'Interval of the fallback sweep of the daemon; dispatch itself is event-driven.',
  },
  {
    key: 'QUEUE_CLEANUP_AGE_DAYS',
    field: 'cleanupAgeMs',
    type: t.days(36_500),
    default: '7',
    doc: 'Finished tasks older than this are deleted by the sweep.',
  },
  {
    key: 'KUGETSU_INTAKE_INTERVAL_SECONDS',
    field: 'intakeIntervalMs',
    type: t.seconds(),
    default: '60',
    doc: 'How often the daemon polls watched repositories (`kugetsu intake add`) for labelled issues and mentions, and refreshes open pull requests; conditional requests keep idle polls cheap.',
  },
  {
    key: 'KUGETSU_DEFAULT_SERVER',
    field: 'defaultServer',
    type: t.text(),
    expected: 'a server name',
    doc: 'Server (by name) whose host owner/repo#N refs use (default: the one set by `kugetsu server default`).',
  },
  {
    key: 'KUGETSU_DEFAULT_REPO',
    field: 'defaultRepo',
    type: t.repoSpec(),
    doc: 'Repository that #N refs use: host/owner/repo, or owner/repo on the default server.',
  },
] as const satisfies readonly Setting[];
