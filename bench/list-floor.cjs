/**
 * The floor for `kugetsu list --json` in one Node process, for bench/cli-start.mjs: CommonJS,
 * better-sqlite3 with its addon's path, the listing's query (core/store/sqlite/session-sql.ts,
 * usage summed as there), one stat per worktree and the JSON printed. No settings, env files,
 * scrubber or store objects: what a listing costs with nothing of kugetsu around it.
 */
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const Database = require('better-sqlite3');

const db = new Database(join(process.env.KUGETSU_HOME, 'kugetsu.db'), {
  fileMustExist: true,
  nativeBinding: require.resolve('better-sqlite3/build/Release/better_sqlite3.node'),
});
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 10000');
db.pragma('user_version', { simple: true });
const usage = `CASE WHEN COUNT(runs.input_tokens) = 0 THEN NULL ELSE json_object(
  'inputTokens', SUM(COALESCE(runs.input_tokens, 0)), 'costUsd', SUM(runs.cost_usd)) END`;
const rows = db
  .prepare(
    `SELECT s.*, t.id AS t_id, t.state AS t_state, t.attempts AS t_attempts, t.max_attempts AS t_max,
       (SELECT ${usage} FROM tasks st JOIN runs ON runs.task_id = st.id
          WHERE st.issue_ref = s.issue_ref) AS usage_json
     FROM sessions s
     LEFT JOIN tasks t ON t.id = (
       SELECT id FROM tasks WHERE issue_ref = s.issue_ref
       ORDER BY (state = 'running') DESC, id DESC LIMIT 1)
     WHERE s.state IN ('used', 'left')
     ORDER BY s.updated_at DESC, s.issue_ref`,
  )
  .all();
for (const row of rows) row.worktreeExists = existsSync(row.worktree_path);
process.stdout.write(`${JSON.stringify({ sessions: rows }, null, 2)}\n`);
db.close();
