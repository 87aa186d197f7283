/**
 * Runs one command line: help, `--version`, or the command's lazily loaded module, with every
 * error mapped to an exit code in one place. main.js passes every command; the bundled bin
 * (bin.ts) passes the few it runs itself.
 */
import { OperationError, UsageError, quote } from '../../core/errors.js';
import type { Io } from './io.js';
import { SUMMARY, USAGE } from './usage.js';

export type CommandRun = (argv: string[], io: Io) => Promise<number>;
export type CommandTable = Record<string, () => Promise<{ run: CommandRun }>>;

function help(io: Io, command: string | undefined): number {
  if (command === undefined) {
    io.out(SUMMARY);
    return 0;
  }
  const usage = USAGE[command === 'queue-daemon' ? 'daemon' : command];
  if (usage === undefined)
    throw new UsageError(`unknown command ${quote(command)}: see \`kugetsu help\``);
  io.out(`Usage: kugetsu ${usage}`);
  return 0;
}

export async function dispatch(argv: string[], commands: CommandTable, io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      return help(io, command === 'help' ? rest[0] : undefined);
    }
    if (command === '--version' || command === '-V') {
      const { version } = (await import('./version.js')).packageInfo();
      io.out(version);
      return 0;
    }
    const load = commands[command];
    if (load === undefined)
      throw new UsageError(`unknown command ${quote(command)}: see \`kugetsu help\``);
    if (rest.includes('--help') || rest.includes('-h')) return help(io, command);
    return await (await load()).run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof OperationError) {
      io.err(`kugetsu: ${err.message}`);
      return err.exitCode;
    }
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.err(`kugetsu: internal error (a bug — please report it with this output):\n${detail}`);
    return 1;
  }
}
