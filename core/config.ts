/**
 * Settings (DESIGN.md §1): process environment over `config.env` over defaults, validated with
 * zod at start. Each setting is declared once, in core/config/settings.ts; this module turns the
 * raw text into `Config`. A bad value is a one-line UsageError naming the key and the value
 * (never the value of a secret). Everything but `readConfigFile` and `loadConfig` is pure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentName } from './domain.js';
import { parseDotenv } from './dotenv.js';
import { OperationError, UsageError, errorMessage, quote } from './errors.js';
import { SETTINGS, type Setting } from './config/settings.js';

export { CONFIG_KEYS, renderConfigEnv } from './config/render.js';
export { VERBOSITY_LEVELS, type Verbosity } from './config/settings.js';

type Settings = (typeof SETTINGS)[number];

/** What one setting yields: its type's value, or undefined when it has no default and is unset. */
type ValueOf<S extends Settings> =
  z.output<S['type']['schema']> | (S extends { default: string } ? never : undefined);

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
function blankToUndefined(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function schemaOf(setting: Setting): z.ZodTypeAny {
  const { schema } = setting.type;
  const fallback = setting.default;
  return fallback === undefined
    ? z.preprocess(blankToUndefined, schema.optional())
    : z.preprocess((v) => blankToUndefined(v) ?? fallback, schema);
}

/** The schema of every setting, by key, in table order: the order of validation. */
const ConfigSchema = z.object(
  Object.fromEntries(SETTINGS.map((setting) => [setting.key, schemaOf(setting)])),
);

function invalid(setting: Setting, raw: string | undefined): UsageError {
  const expected = setting.expected ?? setting.type.expected;
  const shown =
    setting.secret === true || setting.conceal === true
      ? ' (value not shown)'
      : `=${quote(raw ?? '')}`;
  return new UsageError(`invalid ${setting.key}${shown}: expected ${expected}`);
}

/** Validates raw settings (already merged by precedence); unknown keys are ignored. Pure. */
export function parseConfig(raw: Record<string, string | undefined>): Config {
  const input: Record<string, string | undefined> = {};
  for (const { key } of SETTINGS) input[key] = raw[key];
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const key = result.error.issues[0]?.path[0];
    const setting = SETTINGS.find((s) => s.key === key);
    if (setting === undefined)
      throw new Error(`config: no setting for the issue at ${String(key)}`);
    throw invalid(setting, raw[setting.key]);
  }
  const values: Record<string, unknown> = {};
  for (const { key, field } of SETTINGS) values[field] = result.data[key];
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
