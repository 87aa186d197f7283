/** Servers (DESIGN.md §3): where repositories and issues live. */
import { SERVER_KINDS, type Server, type ServerKind } from '../domain.js';
import { OperationError, UsageError, quote } from '../errors.js';
import type { HomeContext } from '../home-context.js';

export interface AddServerInput {
  name: string;
  url: string;
  kind?: string | undefined;
  tokenEnv?: string | undefined;
  apiUrl?: string | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates and normalises what `server add` was given (pure). */
export function buildServer(input: AddServerInput): Server {
  if (!NAME.test(input.name)) {
    throw new UsageError(
      `invalid server name ${quote(input.name)}: use letters, digits, '.', '_' or '-'`,
    );
  }
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new UsageError(
      `invalid server URL ${quote(input.url)}: expected https://host, http://host or file:///path`,
    );
  }
  if (!['https:', 'http:', 'file:'].includes(url.protocol)) {
    throw new UsageError(
      `invalid server URL ${quote(input.url)}: expected https://, http:// or file://`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('server URLs must not carry credentials: pass --token-env VAR instead');
  }
  const kind = parseKind(input.kind, url);
  if (input.tokenEnv !== undefined && !ENV_KEY.test(input.tokenEnv)) {
    throw new UsageError(
      `invalid --token-env ${quote(input.tokenEnv)}: expected an environment variable name`,
    );
  }
  if (input.apiUrl !== undefined && !URL.canParse(input.apiUrl)) {
    throw new UsageError(`invalid --api-url ${quote(input.apiUrl)}: expected a URL`);
  }
  const isFile = url.protocol === 'file:';
  return {
    name: input.name,
    kind,
    url: url.href.replace(/\/+$/, ''),
    host: isFile ? null : url.host,
    apiUrl: input.apiUrl ?? null,
    tokenEnv: input.tokenEnv ?? null,
    isDefault: false,
  };
}

function parseKind(kind: string | undefined, url: URL): ServerKind {
  if (kind === undefined) {
    if (url.protocol === 'file:') return 'git';
    if (url.hostname === 'github.com') return 'github';
    if (url.hostname.startsWith('gitlab.')) return 'gitlab';
    return 'gitea';
  }
  if ((SERVER_KINDS as readonly string[]).includes(kind)) return kind as ServerKind;
  throw new UsageError(`invalid --kind ${quote(kind)}: expected one of ${SERVER_KINDS.join(', ')}`);
}

export async function addServer(ctx: HomeContext, input: AddServerInput): Promise<Server> {
  const server = buildServer(input);
  const clash = (await ctx.store.servers.list()).find(
    (s) => (s.host ?? s.name) === (server.host ?? server.name),
  );
  if (clash !== undefined) {
    throw new OperationError(
      `server ${clash.name} already serves ${server.host ?? server.name}: remove it first`,
    );
  }
  await ctx.store.servers.add(server);
  return (await ctx.store.servers.get(server.name)) ?? server;
}

export async function getServer(ctx: HomeContext, name: string): Promise<Server> {
  const server = await ctx.store.servers.get(name);
  if (server === null)
    throw new OperationError(`server ${quote(name)} not found: see \`kugetsu server list\``);
  return server;
}

export async function removeServer(ctx: HomeContext, name: string): Promise<void> {
  await getServer(ctx, name);
  const inUse = (await ctx.store.sessions.list({ all: true })).filter((s) => s.serverName === name);
  if (inUse[0] !== undefined) {
    throw new OperationError(
      `server ${name} still has ${inUse.length} session(s), e.g. ${inUse[0].issueRef}: destroy them first`,
    );
  }
  await ctx.store.servers.remove(name);
}
