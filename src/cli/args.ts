/** Argument parsing for every command: node's parseArgs, strict, errors as UsageError. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, quote } from '../../core/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

export const JSON_FLAG = { json: { type: 'boolean' } } as const;

export function parse<O extends Options>(command: string, argv: string[], options: O): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values, positionals };
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    const option = /'([^']+)'/.exec(message)?.[1];
    throw new UsageError(
      option === undefined
        ? `${command}: ${message}`
        : `${command}: ${message.startsWith('Unknown option') ? 'unknown option' : 'bad option'} ${quote(option)}: see \`kugetsu help ${command}\``,
    );
  }
}

export function expectPositionals(
  command: string,
  positionals: string[],
  min: number,
  max: number,
  usage: string,
): void {
  if (positionals.length < min || positionals.length > max) {
    const extra = positionals[max];
    throw new UsageError(
      extra !== undefined && positionals.length > max
        ? `${command}: unexpected argument ${quote(extra)}; usage: kugetsu ${usage}`
        : `${command}: missing argument; usage: kugetsu ${usage}`,
    );
  }
}

/** The first positional as a subcommand among `allowed`. */
export function subcommand<T extends string>(
  command: string,
  input: string | undefined,
  allowed: readonly T[],
  fallback?: T,
): T {
  if (input === undefined && fallback !== undefined) return fallback;
  if (input !== undefined && (allowed as readonly string[]).includes(input)) return input as T;
  throw new UsageError(
    input === undefined
      ? `${command}: missing subcommand: one of ${allowed.join(', ')}`
      : `${command}: unknown subcommand ${quote(input)}: one of ${allowed.join(', ')}`,
  );
}
