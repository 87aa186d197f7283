/** Statements of the small tables: servers, events and sink cursors, intake, meta. */
import type { KugetsuEvent, Server } from '../../domain.js';
import { toEvent, type EventRow } from '../event-rows.js';
import {
  toIntakeRepo,
  type IntakeCursor,
  type IntakeRepo,
  type IntakeRepoRow,
  type NewIntakeRepo,
} from '../intake-rows.js';
import { toServer, type ServerRow } from '../server-rows.js';
import type { SqliteDb } from './sqlite-db.js';

export function selectServers(db: SqliteDb): Server[] {
  return db.all<ServerRow>('SELECT * FROM servers ORDER BY name').map(toServer);
}

export function selectServer(db: SqliteDb, name: string): Server | null {
  const row = db.get<ServerRow>('SELECT * FROM servers WHERE name = ?', name);
  return row === undefined ? null : toServer(row);
}

export function insertServer(db: SqliteDb, server: Server, isDefault: boolean): void {
  db.run(
    `INSERT INTO servers (name, kind, url, host, api_url, token_env, is_default)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    server.name,
    server.kind,
    server.url,
    server.host,
    server.apiUrl,
    server.tokenEnv,
    isDefault ? 1 : 0,
  );
}

export function deleteServer(db: SqliteDb, name: string): boolean {
  return db.run('DELETE FROM servers WHERE name = ?', name).changes > 0;
}

export function markDefaultServer(db: SqliteDb, name: string): void {
  db.run('UPDATE servers SET is_default = (name = ?)', name);
}

export function selectEvents(
  db: SqliteDb,
  filter: { unreadOnly: boolean; afterId?: number; limit?: number },
): KugetsuEvent[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.unreadOnly) where.push('read_at IS NULL');
  if (filter.afterId !== undefined) {
    where.push('id > ?');
    params.push(filter.afterId);
  }
  const sql = `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY id ${filter.limit !== undefined ? `LIMIT ${Math.trunc(filter.limit)}` : ''}`;
  return db.all<EventRow>(sql, ...params).map(toEvent);
}

export function markEventsRead(db: SqliteDb, now: number): number {
  return db.run('UPDATE events SET read_at = ? WHERE read_at IS NULL', now).changes;
}

export function selectLatestEventId(db: SqliteDb): number {
  return db.get<{ id: number | null }>('SELECT MAX(id) AS id FROM events')?.id ?? 0;
}

export function selectSinkCursor(db: SqliteDb, sink: string): number | null {
  return (
    db.get<{ last_event_id: number }>('SELECT last_event_id FROM sink_cursors WHERE sink = ?', sink)
      ?.last_event_id ?? null
  );
}

export function upsertSinkCursor(db: SqliteDb, sink: string, lastEventId: number): void {
  db.run(
    `INSERT INTO sink_cursors (sink, last_event_id) VALUES (?, ?)
       ON CONFLICT (sink) DO UPDATE SET last_event_id = excluded.last_event_id`,
    sink,
    lastEventId,
  );
}

export function upsertIntakeRepo(db: SqliteDb, repo: NewIntakeRepo, now: number): void {
  db.run(
    `INSERT INTO intake_repos (server_name, repo_path, label, mention, comments_since, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_name, repo_path) DO UPDATE SET label = excluded.label,
         mention = excluded.mention`,
    repo.serverName,
    repo.repoPath,
    repo.label,
    repo.mention,
    now,
    now,
  );
}

export function deleteIntakeRepo(db: SqliteDb, serverName: string, repoPath: string): boolean {
  return (
    db.run('DELETE FROM intake_repos WHERE server_name = ? AND repo_path = ?', serverName, repoPath)
      .changes > 0
  );
}

export function selectIntakeRepos(db: SqliteDb): IntakeRepo[] {
  return db
    .all<IntakeRepoRow>('SELECT * FROM intake_repos ORDER BY server_name, repo_path')
    .map(toIntakeRepo);
}

export function updateIntakeCursor(
  db: SqliteDb,
  serverName: string,
  repoPath: string,
  cursor: IntakeCursor,
): void {
  db.run(
    `UPDATE intake_repos SET issues_etag = ?, issues_last_modified = ?, comments_etag = ?,
       comments_last_modified = ?, comments_since = ? WHERE server_name = ? AND repo_path = ?`,
    cursor.issuesEtag,
    cursor.issuesLastModified,
    cursor.commentsEtag,
    cursor.commentsLastModified,
    cursor.commentsSince,
    serverName,
    repoPath,
  );
}

export function selectMeta(db: SqliteDb, key: string): string | null {
  return db.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value ?? null;
}

export function upsertMeta(db: SqliteDb, key: string, value: string): void {
  db.run(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    key,
    value,
  );
}

export function deleteMeta(db: SqliteDb, key: string): void {
  db.run('DELETE FROM meta WHERE key = ?', key);
}
