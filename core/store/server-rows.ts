/**
 * Forge servers as SQLite returns them, and their mapping to the domain type. PostgreSQL's come
 * back in the same shape but for the boolean (`postgres/pg-rows.ts`).
 */
import type { Server, ServerKind } from '../domain.js';

export interface ServerRow {
  name: string;
  kind: string;
  url: string;
  host: string | null;
  api_url: string | null;
  token_env: string | null;
  is_default: number;
}

export function toServer(row: ServerRow): Server {
  return {
    name: row.name,
    kind: row.kind as ServerKind,
    url: row.url,
    host: row.host,
    apiUrl: row.api_url,
    tokenEnv: row.token_env,
    isDefault: row.is_default !== 0,
  };
}
