/**
 * Finds an agent CLI: on the agent's PATH first (the user's own install wins), then in
 * kugetsu's own node_modules/.bin, where `npm install` puts the bundled agents.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperationError } from '../errors.js';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

let ownBinDirs: string[] | null = null;

/** Every node_modules/.bin above this module: the installed package's and, in a checkout, the repo's. */
function kugetsuBinDirs(): string[] {
  if (ownBinDirs !== null) return ownBinDirs;
  const dirs: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    dirs.push(join(dir, 'node_modules', '.bin'));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  ownBinDirs = dirs;
  return dirs;
}

export function findAgentBinary(command: string, path: string | undefined): string | null {
  const dirs = [...(path ?? '').split(delimiter).filter((d) => d !== ''), ...kugetsuBinDirs()];
  for (const dir of dirs) {
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function requireAgentBinary(
  agent: string,
  command: string,
  npmPackage: string,
  path: string | undefined,
): string {
  const found = findAgentBinary(command, path);
  if (found !== null) return found;
  throw new OperationError(
    `agent ${agent}: the \`${command}\` command is not on PATH nor in kugetsu's node_modules: install it with \`npm install -g ${npmPackage}\``,
  );
}
