/** How many agents run, where: the per-host cap and a fleet on one database. */
import * as t from '../value-types.js';
import type { Setting } from './setting.js';

export const CAPACITY_SETTINGS = [
  {
    key: 'MAX_CONCURRENT_AGENTS',
    field: 'maxConcurrentAgents',
    type: t.wholeNumber({ min: 1, max: 64 }),
    default: '3',
    doc: 'Most dev agents alive at once for this home, across every kugetsu process; with KUGETSU_DATABASE_URL, on this worker.',
  },
  {
    key: 'KUGETSU_DATABASE_URL',
    field: 'databaseUrl',
    type: t.postgresUrl(),
    conceal: true,
    doc: "PostgreSQL shared by several machines (see docs/scale-out.md); unset: the home's own SQLite file. Its password is scrubbed from output and withheld from agents.",
  },
  {
    key: 'KUGETSU_WORKER_NAME',
    field: 'workerName',
    type: t.matching(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
      '1-63 characters of A-Z, a-z, 0-9, ., _ and -',
    ),
    doc: "With KUGETSU_DATABASE_URL: this machine's name among the workers (unset: the host name). One daemon runs per worker name.",
  },
  {
    key: 'KUGETSU_GLOBAL_MAX_AGENTS',
    field: 'globalMaxAgents',
    type: t.wholeNumber({ min: 1, max: 4096 }),
    doc: "With KUGETSU_DATABASE_URL: most dev agents alive at once across every worker (unset: only each worker's MAX_CONCURRENT_AGENTS).",
  },
  {
    key: 'KUGETSU_WORKER_LEASE_SECONDS',
    field: 'workerLeaseMs',
    type: t.seconds(),
    default: '30',
    doc: 'With KUGETSU_DATABASE_URL: a worker silent this long is dead; its running tasks are recovered and may run elsewhere, and its bot leadership passes on.',
  },
] as const satisfies readonly Setting[];
