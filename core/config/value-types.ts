/**
 * The kinds of value a setting can hold: each parses the trimmed, non-blank text of the setting
 * into the value kugetsu uses (INVALID when the text does not fit), with the words that
 * complete "invalid KEY=value: expected …". Plain functions rather than zod schemas: every
 * command validates the settings at start, and zod's import and schema building were a third
 * of `kugetsu list`'s start-up (docs/benchmarks.md). Pure.
 */
import { isAbsolute } from 'node:path';
import { parsePolicy, type ApprovalPolicy } from '../approvals/policy.js';
import { parseRepoSpec } from '../issue-ref.js';

/** What a parse returns for text that does not fit the type. */
export const INVALID: unique symbol = Symbol('invalid');

export interface ValueType<Out> {
  parse: (text: string) => Out | typeof INVALID;
  /** Completes "invalid KEY=value: expected …"; a setting may say it more precisely. */
  expected: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
// Node fires a setTimeout/setInterval longer than this after 1 ms instead, so a huge timeout
// would kill every task at once: durations that become timers are capped here.
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_TIMER_MINUTES = Math.floor(MAX_TIMER_MS / MINUTE_MS);
const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** At least 1 ms: a fraction too small to register must not become "no timeout at all". */
function toMs(amount: number, unitMs: number): number {
  return Math.max(1, Math.round(amount * unitMs));
}

/** The text itself when `ok` says it fits. */
function checked(ok: (text: string) => boolean): (text: string) => string | typeof INVALID {
  return (text) => (ok(text) ? text : INVALID);
}

/** `parse`'s value passed through `then`, INVALID staying INVALID. */
function mapped<A, B>(
  parse: (text: string) => A | typeof INVALID,
  then: (value: A) => B | typeof INVALID,
): (text: string) => B | typeof INVALID {
  return (text) => {
    const value = parse(text);
    return value === INVALID ? INVALID : then(value);
  };
}

/** Any text (a shell command, a server name): it cannot be wrong. */
export function text(): ValueType<string> {
  return { parse: (value) => value, expected: 'any text' };
}

/** Text that matches `pattern`, described by `expected`. */
export function matching(pattern: RegExp, expected: string): ValueType<string> {
  return { parse: checked((value) => pattern.test(value)), expected };
}

export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
): ValueType<T[number]> {
  const isOne = (value: string): value is T[number] => values.includes(value);
  return {
    parse: (value) => (isOne(value) ? value : INVALID),
    expected: `one of ${values.join(', ')}`,
  };
}

// Explicit digit patterns rather than Number() alone, which would accept "0x10", "1e3",
// "Infinity" and, worse, turn " " into 0.
const WHOLE = /^[0-9]{1,15}$/;
const DECIMAL = /^(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})$/;

/** A whole number from `min` to `max`; without `max`, any safe integer from `min` (of `unit`). */
export function wholeNumber(options: {
  min: number;
  max?: number;
  unit?: string;
}): ValueType<number> {
  const { min, max = Number.MAX_SAFE_INTEGER, unit } = options;
  const of = unit === undefined ? '' : ` of ${unit}`;
  return {
    parse: (value) => {
      if (!WHOLE.test(value)) return INVALID;
      const n = Number(value);
      return n >= min && n <= max ? n : INVALID;
    },
    expected:
      max === Number.MAX_SAFE_INTEGER
        ? `a whole number${of}, ${min} or more`
        : `a whole number${of} from ${min} to ${max}`,
  };
}

/** A whole number of MB, as bytes. */
export function megabytes(max: number): ValueType<number> {
  const mb = wholeNumber({ min: 1, max, unit: 'MB' });
  return { parse: mapped(mb.parse, (n) => n * 1024 * 1024), expected: mb.expected };
}

/** A token count; 0, "no limit", becomes null. */
export function tokenBudget(): ValueType<number | null> {
  const count = wholeNumber({ min: 0, unit: 'tokens' });
  return { parse: mapped(count.parse, (n) => (n === 0 ? null : n)), expected: count.expected };
}

/** A positive number (fractions allowed) of `unit`, at most `max` of them, in milliseconds. */
function positiveAmountMs(unit: string, unitMs: number, max: number): ValueType<number> {
  return {
    parse: (value) => {
      if (!DECIMAL.test(value)) return INVALID;
      const amount = Number(value);
      return amount > 0 && amount <= max ? toMs(amount, unitMs) : INVALID;
    },
    expected: `a positive number of ${unit}, at most ${max}`,
  };
}

/** Minutes, as milliseconds; at most what fits a Node timer. */
export function minutes(): ValueType<number> {
  return positiveAmountMs('minutes', MINUTE_MS, MAX_TIMER_MINUTES);
}

/** Seconds, as milliseconds; at most what fits a Node timer. */
export function seconds(): ValueType<number> {
  return positiveAmountMs('seconds', 1000, MAX_TIMER_SECONDS);
}

/** Days, as milliseconds (an age, never a timer). */
export function days(max: number): ValueType<number> {
  return positiveAmountMs('days', DAY_MS, max);
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: 60 * MINUTE_MS };
const DURATION = /^(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})[smh]?$/;

/** Minutes by default, or with an s, m or h suffix; in milliseconds, at least 1 ms. */
export function duration(): ValueType<number> {
  return {
    parse: (value) => {
      if (!DURATION.test(value)) return INVALID;
      const suffixed = /[smh]$/.test(value);
      const unitMs = suffixed ? (DURATION_UNITS_MS[value.slice(-1)] ?? MINUTE_MS) : MINUTE_MS;
      const amount = Number(suffixed ? value.slice(0, -1) : value);
      // Zero is refused before toMs, which would round it up to 1 ms.
      if (amount === 0) return INVALID;
      const ms = toMs(amount, unitMs);
      return ms <= MAX_TIMER_MS ? ms : INVALID;
    },
    expected: 'a positive duration such as 30, 30m, 90s or 1.5h',
  };
}

function commaSeparated(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** Comma-separated parts, each of which must match `part`. */
function listOf(part: RegExp): (text: string) => string[] | typeof INVALID {
  return (value) => {
    const parts = commaSeparated(value);
    return parts.every((p) => part.test(p)) ? parts : INVALID;
  };
}

/** Comma-separated numeric ids (Telegram's); negative ones too when `signed`. */
export function idList(options: { signed: boolean }): ValueType<number[]> {
  const id = options.signed ? /^-?[1-9][0-9]{0,15}$/ : /^[1-9][0-9]{0,15}$/;
  return {
    parse: mapped(listOf(id), (ids) => {
      const numbers = ids.map(Number);
      return numbers.every(Number.isSafeInteger) ? numbers : INVALID;
    }),
    expected: options.signed ? 'comma-separated ids' : 'comma-separated positive ids',
  };
}

/** Comma-separated claude tool rules: `Name` or `Name(specifier)`. */
export function toolRules(): ValueType<string[]> {
  return {
    parse: listOf(/^[A-Za-z][A-Za-z0-9_]*(?:\([^()\n]*\))?$/),
    expected: 'comma-separated tool rules such as Bash(git commit:*)',
  };
}

export function approvalPolicy(): ValueType<ApprovalPolicy> {
  return {
    parse: (value) => {
      try {
        return parsePolicy(value);
      } catch {
        return INVALID;
      }
    },
    expected:
      'comma-separated [agent:]category=allow|ask|deny rules, e.g. bash=ask,edit=allow,claude:network=deny',
  };
}

export function absolutePath(): ValueType<string> {
  return {
    parse: checked((p) => isAbsolute(p) && !p.includes('\0') && !/[\r\n]/.test(p)),
    expected: 'an absolute path',
  };
}

/** `host/owner/repo` or `owner/repo`, kept as written: the host of the latter is known later. */
export function repoSpec(): ValueType<string> {
  const isRepoSpec = (value: string): boolean => {
    try {
      // The real default host is only known once servers are read; any host checks the shape.
      parseRepoSpec(value, 'default-server');
      return true;
    } catch {
      return false;
    }
  };
  return { parse: checked(isRepoSpec), expected: 'host/owner/repo or owner/repo' };
}

/** An http: or https: URL, without its trailing slashes. */
export function httpUrl(): ValueType<string> {
  return {
    parse: (url) =>
      URL.canParse(url) && /^https?:$/.test(new URL(url).protocol)
        ? url.replace(/\/+$/, '')
        : INVALID,
    expected: 'an http(s) URL',
  };
}

export function httpsUrl(): ValueType<string> {
  return {
    parse: checked((url) => URL.canParse(url) && new URL(url).protocol === 'https:'),
    expected: 'an https URL',
  };
}

/** A postgres:// (or postgresql://) URL with a host and a database. */
export function postgresUrl(): ValueType<string> {
  return {
    parse: checked((url) => {
      if (!URL.canParse(url)) return false;
      const parsed = new URL(url);
      return (
        /^postgres(?:ql)?:$/.test(parsed.protocol) &&
        parsed.hostname !== '' &&
        parsed.pathname.length > 1
      );
    }),
    expected: 'a postgres://user:password@host:port/database URL',
  };
}

/** `host:port`, the host of `[::1]:9000` without its brackets. */
export function hostPort(): ValueType<{ host: string; port: number }> {
  return {
    parse: (value) => {
      if (!/^[A-Za-z0-9.:[\]-]+:[0-9]{1,5}$/.test(value)) return INVALID;
      const at = value.lastIndexOf(':');
      const port = Number(value.slice(at + 1));
      return port <= 65535 ? { host: value.slice(0, at).replace(/^\[|\]$/g, ''), port } : INVALID;
    },
    expected: 'host:port',
  };
}
