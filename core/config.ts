/**
 * Settings (DESIGN.md §1): process environment over `config.env` over defaults, validated at
 * start. Each setting is declared once, in core/config/settings.ts; this module turns the
 * raw text into `Config`. A bad value is a one-line UsageError naming the key and the value
 * (never the value of a secret). Everything but `readConfigFile` and `loadConfig` is pure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentName } from './domain.js';
import { parseDotenv } from './dotenv.js';
import { OperationError, UsageError, errorMessage, quote } from './errors.js';
import { SETTINGS, type Setting } from './config/settings.js';
import { INVALID, type ValueType } from './config/value-types.js';

export { CONFIG_KEYS, renderConfigEnv } from './config/render.js';
export { VERBOSITY_LEVELS, type Verbosity } from './config/settings.js';

type Settings = (typeof SETTINGS)[number];

/** What one setting yields: its type's value, or undefined when it has no default and is unset. */
type ValueOf<S extends Settings> =
  | (S['type'] extends ValueType<infer Out> ? Out : never)
  | (S extends { default: string } ? never : undefined);

/** Every setting's value, under the field it fills. */
export type SettingValues = { [S in Settings as S['field']]: ValueOf<S> };

/**
 * The validated settings. Fields come from SettingValues, except the few that `derive`
 * computes from more than one setting or spells differently.
 */
export type Config = Omit<SettingValues, 'pmAgent' | 'claudePermissionMode'> & {
  /** KUGETSU_PM_AGENT, or else the resolved KUGETSU_AGENT. */
  pmAgent: AgentName;
  /** null: from KUGETSU_APPROVAL_POLICY (see permissionModeFor). */
  claudePermissionMode: NonNullable<SettingValues['claudePermissionMode']> | null;
};

/** Settings that resolve against each other: the one step after the table. Pure. */
function derive(values: SettingValues): Config {
  return {
    ...values,
    pmAgent: values.pmAgent ?? values.agent,
    claudePermissionMode: values.claudePermissionMode ?? null,
  };
}

// Empty (or blank) counts as unset, so `KEY=` in config.env or an exported empty variable
// falls back to the default instead of failing.
function blankToUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}

function invalid(setting: Setting, raw: string | undefined): UsageError {
  const expected = setting.expected ?? setting.type.expected;
  const shown =
    setting.secret === true || setting.conceal === true
      ? ' (value not shown)'
      : `=${quote(raw ?? '')}`;
  return new UsageError(`invalid ${setting.key}${shown}: expected ${expected}`);
}

/**
 * Validates raw settings (already merged by precedence) in table order, so the first bad key
 * is the one reported; unknown keys are ignored. Pure.
 */
export function parseConfig(raw: Record<string, string | undefined>): Config {
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS as readonly Setting[]) {
    const given = blankToUndefined(raw[setting.key]) ?? setting.default;
    if (given === undefined) {
      values[setting.field] = undefined;
      continue;
    }
    const value = setting.type.parse(given);
    if (value === INVALID) throw invalid(setting, raw[setting.key]);
    values[setting.field] = value;
  }
  // The one cast: the loop above fills every field of SettingValues with its setting's output.
  return derive(values as SettingValues);
}

/**
 * Precedence for every known key: the process environment, then config.env. An empty value
 * counts as unset at each level, so an exported `KEY=` does not hide the file's value. Pure.
 */
export function mergeConfigSources(
  processEnv: Record<string, string | undefined>,
  fileValues: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = {};
  for (const { key } of SETTINGS) {
    const fromEnv = processEnv[key];
    const fromFile = fileValues[key];
    if (fromEnv !== undefined && fromEnv.trim() !== '') merged[key] = fromEnv;
    else if (fromFile !== undefined && fromFile.trim() !== '') merged[key] = fromFile;
  }
  return merged;
}

/** Every `KEY=value` of `<home>/config.env`, known keys or not; empty when there is no file. */
export function readConfigFile(home: string): Record<string, string> {
  const file = join(home, 'config.env');
  try {
    return parseDotenv(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new OperationError(`cannot read ${file}: ${errorMessage(err)}`);
  }
}

/** Reads `<home>/config.env` (if any), applies precedence and validates. */
export function loadConfig(
  home: string,
  processEnv: Record<string, string | undefined> = process.env,
  fileValues: Record<string, string> = readConfigFile(home),
): Config {
  return parseConfig(mergeConfigSources(processEnv, fileValues));
}
