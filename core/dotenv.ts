/**
 * dotenv files (config.env, env/*.env): parsed with Node's own parser, written so that every
 * value parses back byte for byte. Pure: no I/O.
 */
import { parseEnv } from 'node:util';
import { UsageError, quote } from './errors.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLAIN = /^[A-Za-z0-9_./:@,+-]*$/;

export function parseDotenv(text: string): Record<string, string> {
  // Two quirks of Node 20's parseEnv: a last line `# KEY=value` without a trailing newline, and an
  // indented `  # KEY=value` line, come back as a key named `# KEY`. A trailing newline fixes the
  // first; no real key starts with `#`, so dropping such keys fixes the second.
  const parsed = parseEnv(text.endsWith('\n') ? text : `${text}\n`);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!key.startsWith('#') && value !== undefined) result[key] = value;
  }
  return result;
}

export function validateEnvKey(key: string): void {
  if (!KEY.test(key)) {
    throw new UsageError(
      `invalid variable name ${quote(key)}: use letters, digits and _, not starting with a digit`,
    );
  }
}

export interface DotenvEntry {
  key: string;
  value: string;
  comment?: string | undefined;
}

/**
 * Candidate encodings, simplest first. Double quotes come before single ones because they are
 * what people expect to read, but parseEnv expands `\n` inside them, so they are only used
 * without backslashes. Backticks are parseEnv's way to hold both quote characters.
 */
function candidates(value: string): string[] {
  const out: string[] = [];
  if (PLAIN.test(value)) out.push(value);
  if (!value.includes('"') && !value.includes('\\')) out.push(`"${value}"`);
  if (!value.includes("'")) out.push(`'${value}'`);
  if (!value.includes('`')) out.push(`\`${value}\``);
  return out;
}

function encodeValue(key: string, value: string): string {
  // Each line must stand alone: multi-line values are where dotenv parsers disagree.
  if (!/[\r\n]/.test(value)) {
    for (const encoded of candidates(value)) {
      // Checked against the real parser rather than trusted, so no quirk can corrupt a value.
      if (parseEnv(`${key}=${encoded}\n`)[key] === value) return encoded;
    }
  }
  throw new UsageError(
    `the value of ${key} cannot be stored in an env file: it spans lines or mixes ', " and \` quotes`,
  );
}

/** One `KEY=value` line per entry, each optionally preceded by `# comment` lines. */
export function serializeDotenv(entries: ReadonlyArray<DotenvEntry>): string {
  const lines: string[] = [];
  for (const { key, value, comment } of entries) {
    validateEnvKey(key);
    if (comment !== undefined) {
      for (const line of comment.split(/\r?\n|\r/)) lines.push(line === '' ? '#' : `# ${line}`);
    }
    lines.push(`${key}=${encodeValue(key, value)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
