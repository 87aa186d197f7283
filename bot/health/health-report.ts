/**
 * Whether the Telegram bot is up, judged from any process. The stored record alone can lie —
 * its process may have died leaving "running", or its polling may be stuck — so the owner's
 * liveness and the age of the last successful fetch decide. Pure.
 */
import type { BotError, BotHealth, BotMode, BotRunState } from './bot-health.js';

/**
 * A long poll returns within 30 s (grammY's timeout) even when nothing happens, and fetches are
 * recorded every few seconds: three missed polls mean polling is stuck.
 */
export const STALE_AFTER_MS = 90_000;

export type BotHealthVerdict = 'up' | 'starting' | 'down' | 'not_running';

export interface BotHealthFacts {
  now: number;
  /** Whether the process named by the record is alive. */
  ownerAlive: boolean;
  /** The live daemon's pid, or null when none runs. */
  daemonPid: number | null;
}

/** What `status --json` shows as `telegram`. A dead owner's live fields (state, restarts…) are null. */
export interface BotHealthReport {
  health: BotHealthVerdict;
  summary: string;
  advice: string | null;
  mode: BotMode | null;
  state: BotRunState | null;
  since: number | null;
  username: string | null;
  pid: number | null;
  lastOkAt: number | null;
  lastError: BotError | null;
  restarts: number | null;
  nextRetryAt: number | null;
}

const START_DAEMON = 'start the daemon: `kugetsu daemon start` (`delegate` starts it too)';
const RESTART = 'restart the daemon: `kugetsu daemon restart` (or run `kugetsu bot`)';
const RETRIES =
  'it retries by itself; check the network and TELEGRAM_API_ROOT (`kugetsu daemon logs` shows every attempt)';
const ONE_POLLER = 'run one kugetsu daemon or `kugetsu bot` per token; it retries by itself';
const FIX_TOKEN =
  'fix TELEGRAM_BOT_TOKEN in config.env or the environment (the token @BotFather gave), then `kugetsu daemon restart`';
const STUCK = 'restart the daemon: `kugetsu daemon restart` (`kugetsu daemon logs` may say why)';

const iso = (ms: number): string => new Date(ms).toISOString();

export function judgeBotHealth(record: BotHealth | null, facts: BotHealthFacts): BotHealthReport {
  const live = record !== null && facts.ownerAlive;
  const report = (
    health: BotHealthVerdict,
    summary: string,
    advice: string | null = null,
  ): BotHealthReport => ({
    health,
    summary,
    advice,
    mode: record?.mode ?? null,
    state: live ? record.state : null,
    since: live ? record.since : null,
    username: record?.username ?? null,
    pid: live ? record.owner.pid : null,
    lastOkAt: record?.lastOkAt ?? null,
    lastError: record?.lastError ?? null,
    restarts: live ? record.restarts : null,
    nextRetryAt: live ? record.nextRetryAt : null,
  });
  if (!live) {
    // A stopped daemon is not a dead bot; a daemon without its bot is.
    return facts.daemonPid === null
      ? report('not_running', 'the daemon is not running', START_DAEMON)
      : report('down', `the daemon (pid ${facts.daemonPid}) is not running the bot`, RESTART);
  }
  const since = iso(record.since);
  const as = record.username === null ? '' : ` as @${record.username}`;
  switch (record.state) {
    case 'unauthorized':
      return report(
        'down',
        'stopped: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized)',
        FIX_TOKEN,
      );
    case 'stopped':
      return report('down', `stopped since ${since}`, RESTART);
    case 'retrying':
      return record.lastError?.code === 409
        ? report(
            'down',
            `retrying since ${since}: another process polls this bot token (409 Conflict)`,
            ONE_POLLER,
          )
        : report('down', `retrying since ${since}`, RETRIES);
    case 'starting':
      return facts.now - record.since > STALE_AFTER_MS
        ? report('down', `still starting since ${since}`, RETRIES)
        : report('starting', `starting since ${since}`);
    case 'running': {
      // Telegram calls a webhook only when there is an update: silence proves nothing there.
      if (record.mode === 'webhook') return report('up', `on a webhook${as} since ${since}`);
      const last = Math.max(record.lastOkAt ?? 0, record.since);
      return facts.now - last > STALE_AFTER_MS
        ? report('down', `polling${as}, but no getUpdates succeeded since ${iso(last)}`, STUCK)
        : report('up', `polling${as} since ${since}`);
    }
  }
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.round(m / 60)}h`;
}

const word = (health: BotHealthVerdict): string =>
  health === 'not_running' ? 'not running' : health;

/** The lines `kugetsu status` prints after its status word. */
export function botHealthLines(report: BotHealthReport, now: number): string[] {
  const lines = [`telegram: ${word(report.health)} — ${report.summary}`];
  if (report.mode !== null) {
    const label = report.mode === 'webhook' ? 'last webhook call' : 'last update fetch';
    const when =
      report.lastOkAt === null
        ? 'never'
        : `${iso(report.lastOkAt)} (${age(now - report.lastOkAt)} ago)`;
    lines.push(`  ${label}: ${when}`);
  }
  if (report.lastError !== null)
    lines.push(`  last error: ${iso(report.lastError.at)} ${report.lastError.message}`);
  if (report.restarts !== null) {
    const next = report.nextRetryAt === null ? '' : `, next try ${iso(report.nextRetryAt)}`;
    lines.push(`  restarts: ${report.restarts}${next}`);
  }
  if (report.advice !== null) lines.push(`  what to do: ${report.advice}`);
  return lines;
}

/** One line, for `doctor` and the bot's `/status`. */
export function botHealthLine(report: BotHealthReport): string {
  const parts = [`${word(report.health)} — ${report.summary}`];
  if (report.health === 'down' && report.lastError !== null)
    parts.push(`last error: ${report.lastError.message}`);
  if (report.advice !== null) parts.push(`what to do: ${report.advice}`);
  return parts.join('; ');
}
