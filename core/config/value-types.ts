/**
 * The kinds of value a setting can hold: each is a zod schema from the trimmed, non-blank text of
 * the setting to the value kugetsu uses, and the words that complete "invalid KEY=value: expected
 * …" when the text does not fit. Pure.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { parsePolicy, type ApprovalPolicy } from '../approvals/policy.js';
import { parseRepoSpec } from '../issue-ref.js';

export interface ValueType<Out> {
  schema: z.ZodType<Out, z.ZodTypeDef, unknown>;
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

/** Any text (a shell command, a server name): it cannot be wrong. */
export function text(): ValueType<string> {
  return { schema: z.string(), expected: 'any text' };
}

/** Text that matches `pattern`, described by `expected`. */
export function matching(pattern: RegExp, expected: string): ValueType<string> {
  return { schema: z.string().regex(pattern), expected };
}

export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
): ValueType<T[number]> {
  return { schema: z.enum(values), expected: `one of ${values.join(', ')}` };
}

// Explicit digit patterns rather than z.coerce.number(), which would accept "0x10", "1e3",
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
    schema: z.string().regex(WHOLE).transform(Number).pipe(z.number().int().min(min).max(max)),
    expected:
      max === Number.MAX_SAFE_INTEGER
        ? `a whole number${of}, ${min} or more`
        : `a whole number${of} from ${min} to ${max}`,
  };
}

/** A whole number of MB, as bytes. */
export function megabytes(max: number): ValueType<number> {
  const mb = wholeNumber({ min: 1, max, unit: 'MB' });
  return { schema: mb.schema.transform((n) => n * 1024 * 1024), expected: mb.expected };
}

/** A token count; 0, "no limit", becomes null. */
export function tokenBudget(): ValueType<number | null> {
  const count = wholeNumber({ min: 0, unit: 'tokens' });
  return {
    schema: count.schema.transform((n) => (n === 0 ? null : n)),
    expected: count.expected,
  };
}

/** A positive number (fractions allowed) of `unit`, at most `max` of them, in milliseconds. */
function positiveAmountMs(unit: string, unitMs: number, max: number): ValueType<number> {
  return {
    schema: z
      .string()
      .regex(DECIMAL)
      .transform(Number)
      .pipe(z.number().positive().max(max))
      .transform((amount) => toMs(amount, unitMs)),
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

/** Minutes by default, or with an s, m or h suffix; in milliseconds, at least 1 ms. */
export function duration(): ValueType<number> {
  return {
    schema: z
      .string()
      .regex(/^(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})[smh]?$/)
      .transform((value) => {
        const suffixed = /[smh]$/.test(value);
        const unitMs = suffixed ? (DURATION_UNITS_MS[value.slice(-1)] ?? MINUTE_MS) : MINUTE_MS;
        const amount = Number(suffixed ? value.slice(0, -1) : value);
        // Zero stays zero so that `positive()` refuses it; toMs would round it up to 1 ms.
        return amount === 0 ? 0 : toMs(amount, unitMs);
      })
      .pipe(z.number().positive().max(MAX_TIMER_MS)),
    expected: 'a positive duration such as 30, 30m, 90s or 1.5h',
  };
}

function commaSeparated(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** Comma-separated numeric ids (Telegram's); negative ones too when `signed`. */
export function idList(options: { signed: boolean }): ValueType<number[]> {
  const id = options.signed ? /^-?[1-9][0-9]{0,15}$/ : /^[1-9][0-9]{0,15}$/;
  return {
    schema: z
      .string()
      .transform(commaSeparated)
      .pipe(z.array(z.string().regex(id).transform(Number).pipe(z.number().int().safe()))),
    expected: options.signed ? 'comma-separated ids' : 'comma-separated positive ids',
  };
}

/** Comma-separated claude tool rules: `Name` or `Name(specifier)`. */
export function toolRules(): ValueType<string[]> {
  return {
    schema: z
      .string()
      .transform(commaSeparated)
      .pipe(z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(?:\([^()\n]*\))?$/))),
    expected: 'comma-separated tool rules such as Bash(git commit:*)',
  };
}

export function approvalPolicy(): ValueType<ApprovalPolicy> {
  return {
    schema: z.string().transform((value, ctx) => {
      try {
        return parsePolicy(value);
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom });
        return z.NEVER;
      }
    }),
    expected:
      'comma-separated [agent:]category=allow|ask|deny rules, e.g. bash=ask,edit=allow,claude:network=deny',
  };
}

export function absolutePath(): ValueType<string> {
  return {
    schema: z.string().refine((p) => isAbsolute(p) && !p.includes('\0') && !/[\r\n]/.test(p)),
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
  return { schema: z.string().refine(isRepoSpec), expected: 'host/owner/repo or owner/repo' };
}

/** An http: or https: URL, without its trailing slashes. */
export function httpUrl(): ValueType<string> {
  return {
    schema: z
      .string()
      .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol))
      .transform((url) => url.replace(/\/+$/, '')),
    expected: 'an http(s) URL',
  };
}

export function httpsUrl(): ValueType<string> {
  return {
    schema: z.string().refine((url) => URL.canParse(url) && new URL(url).protocol === 'https:'),
    expected: 'an https URL',
  };
}

/** A postgres:// (or postgresql://) URL with a host and a database. */
export function postgresUrl(): ValueType<string> {
  return {
    schema: z.string().refine((url) => {
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
    schema: z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+:[0-9]{1,5}$/)
      .transform((value) => {
        const at = value.lastIndexOf(':');
        return {
          host: value.slice(0, at).replace(/^\[|\]$/g, ''),
          port: Number(value.slice(at + 1)),
        };
      })
      .refine((listen) => listen.port <= 65535),
    expected: 'host:port',
  };
}
