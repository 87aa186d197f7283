/**
 * Env files under `env/`: what agents receive. `default.env` goes to every agent,
 * `<agent>.env` overrides it. Files are written atomically with mode 0600.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { AGENT_NAMES } from './domain.js';
import { UsageError, quote } from './errors.js';
import { parseDotenv, serializeDotenv, validateEnvKey } from './dotenv.js';
import { isSecretKey } from './secrets.js';

export const ENV_SCOPES = ['default', 'pm-agent', ...AGENT_NAMES] as const;
export type EnvScope = (typeof ENV_SCOPES)[number];

export function parseEnvScope(input: string | undefined): EnvScope {
  if (input === undefined) return 'default';
  if ((ENV_SCOPES as readonly string[]).includes(input)) return input as EnvScope;
  throw new UsageError(`unknown agent ${quote(input)}: expected one of ${ENV_SCOPES.join(', ')}`);
}

export class EnvFiles {
  constructor(private readonly dir: string) {}

  path(scope: EnvScope): string {
    return join(this.dir, `${scope}.env`);
  }

  read(scope: EnvScope): Record<string, string> {
    const file = this.path(scope);
    return existsSync(file) ? parseDotenv(readFileSync(file, 'utf8')) : {};
  }

  /** What an agent of `scope` receives: default.env overlaid with its own file. */
  merged(scope: EnvScope): Record<string, string> {
    return scope === 'default'
      ? this.read('default')
      : { ...this.read('default'), ...this.read(scope) };
  }

  set(key: string, value: string, scope: EnvScope): void {
    validateEnvKey(key);
    this.write(scope, { ...this.read(scope), [key]: value });
  }

  remove(key: string, scope: EnvScope): boolean {
    validateEnvKey(key);
    const entries = this.read(scope);
    if (!(key in entries)) return false;
    delete entries[key];
    this.write(scope, entries);
    return true;
  }

  /** Scopes that have a file. */
  scopes(): EnvScope[] {
    if (!existsSync(this.dir)) return [];
    const names = new Set(readdirSync(this.dir).map((f) => f.replace(/\.env$/, '')));
    return ENV_SCOPES.filter((s) => names.has(s));
  }

  /**
   * Changes whenever any env file changes (files are replaced by rename, so the inode changes
   * too): lets callers cache what they derive from the files.
   */
  signature(): string {
    return this.scopes()
      .map((scope) => {
        const st = statSync(this.path(scope));
        return `${scope}:${st.ino}:${st.mtimeMs}:${st.size}`;
      })
      .join('|');
  }

  /** Every value of a secret-named key in any env file: what transcripts must never show. */
  secretValues(): string[] {
    const values: string[] = [];
    for (const scope of this.scopes()) {
      for (const [key, value] of Object.entries(this.read(scope)))
        if (isSecretKey(key)) values.push(value);
    }
    return values;
  }

  /** Creates the directory and empty files (0600) that `init` promises. */
  ensure(scopes: readonly EnvScope[]): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const scope of scopes) if (!existsSync(this.path(scope))) this.write(scope, {});
  }

  private write(scope: EnvScope, entries: Record<string, string>): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.path(scope);
    const text = serializeDotenv(Object.entries(entries).map(([key, value]) => ({ key, value })));
    const tmp = `${file}.${process.pid}.tmp`;
    // Create 0600 from the first byte and rename into place: no moment where the secret is
    // world-readable, and no half-written file if we die mid-write.
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }
}
