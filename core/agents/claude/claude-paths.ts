/** Where a path claude names lies: inside the worktree or not, and whether claude guards it. */
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** The path relative to the first root it lies in ('' for a root itself), or null. */
export function insidePath(path: string, roots: readonly string[]): string | null {
  for (const root of roots) {
    const rel = relative(resolve(root), resolve(root, path));
    if (rel === '') return '.';
    if (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return rel;
  }
  return null;
}

/** A few of the names claude guards even where it accepts edits (its list is longer). */
const PROTECTED_DIRS = new Set(['.git', '.claude', '.vscode', '.idea', '.husky', '.devcontainer']);
const PROTECTED_FILES = new Set([
  '.mcp.json',
  '.claude.json',
  '.gitconfig',
  '.gitmodules',
  '.envrc',
  '.npmrc',
  '.bashrc',
  '.bash_profile',
  '.profile',
  '.zshrc',
  '.zprofile',
  '.zshenv',
]);

export function isProtected(relativePath: string): boolean {
  const parts = relativePath.split(sep);
  const name = parts[parts.length - 1] ?? '';
  return (
    parts.slice(0, -1).some((p) => PROTECTED_DIRS.has(p)) ||
    PROTECTED_DIRS.has(name) ||
    PROTECTED_FILES.has(name.toLowerCase())
  );
}
