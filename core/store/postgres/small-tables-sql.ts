/** Statements of the small tables on PostgreSQL: servers, events and sink cursors, intake, meta. */
import type { KugetsuEvent, Server } from '../../domain.js';
import { toEvent, type EventRow } from '../event-rows.js';
import {
  toIntakeRepo,
  type IntakeCursor,
  type IntakeRepo,
  type IntakeRepoRow,
  type NewIntakeRepo,
} from '../intake-rows.js';
import type { PgSql } from './pg-db.js';
import { pgServer, type PgServerRow } from './pg-rows.js';

export async function selectServers(sql: PgSql): Promise<Server[]> {
  return (await sql.all<PgServerRow>('SELECT * FROM servers ORDER BY name')).map(pgServer);
}

export async function selectServer(sql: PgSql, name: string): Promise<Server | null> {
  const row = await sql.get<PgServerRow>('SELECT * FROM servers WHERE name = $1', name);
  return row === undefined ? null : pgServer(row);
}

export async function insertServer(sql: PgSql, server: Server, isDefault: boolean): Promise<void> {
  await sql.run(
    `INSERT INTO servers (name, kind, url, host, api_url, token_env, is_default)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    server.name,
    server.kind,
    server.url,
    server.host,
    server.apiUrl,
    server.tokenEnv,
    isDefault,
  );
}

export async function deleteServer(sql: PgSql, name: string): Promise<boolean> {
  return (await sql.run('DELETE FROM servers WHERE name = $1', name)) > 0;
}

export async function markDefaultServer(sql: PgSql, name: string): Promise<void> {
  await sql.run('UPDATE servers SET is_default = (name = $1)', name);
}

export async function selectEvents(
  sql: PgSql,
  filter: { unreadOnly: boolean; afterId?: number; limit?: number },
): Promise<KugetsuEvent[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.unreadOnly) where.push('read_at IS NULL');
  if (filter.afterId !== undefined) {
    params.push(filter.afterId);
    where.push(`id > $${params.length}`);
  }
  if (filter.limit !== undefined) params.push(Math.trunc(filter.limit));
  const rows = await sql.all<EventRow>(
    `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id ${filter.limit !== undefined ? `LIMIT $${params.length}` : ''}`,
    ...params,
  );
  return rows.map(toEvent);
}

export function markEventsRead(sql: PgSql, now: number): Promise<number> {
  return sql.run('UPDATE events SET read_at = $1 WHERE read_at IS NULL', now);
}

export async function selectLatestEventId(sql: PgSql): Promise<number> {
  return (await sql.get<{ id: number | null }>('SELECT MAX(id) AS id FROM events'))?.id ?? 0;
}

export async function selectSinkCursor(sql: PgSql, sink: string): Promise<number | null> {
  const row = await sql.get<{ last_event_id: number }>(
    'SELECT last_event_id FROM sink_cursors WHERE sink = $1',
    sink,
  );
  return row?.last_event_id ?? null;
}

export async function upsertSinkCursor(
  sql: PgSql,
  sink: string,
  lastEventId: number,
): Promise<void> {
  await sql.run(
    `INSERT INTO sink_cursors (sink, last_event_id) VALUES ($1, $2)
       ON CONFLICT (sink) DO UPDATE SET last_event_id = excluded.last_event_id`,
    sink,
    lastEventId,
  );
}

/** The repository as saved: inserted, or its label and mention updated. */
export async function upsertIntakeRepo(
  sql: PgSql,
  repo: NewIntakeRepo,
  now: number,
): Promise<IntakeRepo> {
  const row = await sql.get<IntakeRepoRow>(
    `INSERT INTO intake_repos (server_name, repo_path, label, mention, comments_since, created_at)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (server_name, repo_path) DO UPDATE SET label = excluded.label,
         mention = excluded.mention
       RETURNING *`,
    repo.serverName,
    repo.repoPath,
    repo.label,
    repo.mention,
    now,
  );
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return toIntakeRepo(row);
}

export async function deleteIntakeRepo(
  sql: PgSql,
  serverName: string,
  repoPath: string,
): Promise<boolean> {
  return (
    (await sql.run(
      'DELETE FROM intake_repos WHERE server_name = $1 AND repo_path = $2',
      serverName,
      repoPath,
    )) > 0
  );
}

export async function selectIntakeRepos(sql: PgSql): Promise<IntakeRepo[]> {
  const rows = await sql.all<IntakeRepoRow>(
    'SELECT * FROM intake_repos ORDER BY server_name, repo_path',
  );
  return rows.map(toIntakeRepo);
}

export async function updateIntakeCursor(
  sql: PgSql,
  serverName: string,
  repoPath: string,
  cursor: IntakeCursor,
): Promise<void> {
  await sql.run(
    `UPDATE intake_repos SET issues_etag = $3, issues_last_modified = $4, comments_etag = $5,
       comments_last_modified = $6, comments_since = $7 WHERE server_name = $1 AND repo_path = $2`,
    serverName,
    repoPath,
    cursor.issuesEtag,
    cursor.issuesLastModified,
    cursor.commentsEtag,
    cursor.commentsLastModified,
    cursor.commentsSince,
  );
}

export async function selectMeta(sql: PgSql, key: string): Promise<string | null> {
  return (
    (await sql.get<{ value: string }>('SELECT value FROM meta WHERE key = $1', key))?.value ?? null
  );
}

export async function upsertMeta(sql: PgSql, key: string, value: string): Promise<void> {
  await sql.run(
    `INSERT INTO meta (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    key,
    value,
  );
}

export async function deleteMeta(sql: PgSql, key: string): Promise<void> {
  await sql.run('DELETE FROM meta WHERE key = $1', key);
}
