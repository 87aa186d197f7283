/**
 * Numbered schema migrations, applied in order inside one transaction each and recorded
 * in `PRAGMA user_version`. Never edit a shipped migration: add the next one.
 *
 * The bot's tables (chat_deliveries, bot_state, chat_topics: migrations 2, 7 and 8) are the
 * bot's now: bot/store/bot-migrations.ts owns and migrates them, under its own version. They
 * stay here as history, so every home keeps the same numbering.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE servers (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    host TEXT,
    api_url TEXT,
    token_env TEXT,
    is_default INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('dev', 'pm')),
    mode TEXT NOT NULL CHECK (mode IN ('start', 'continue', 'resume')),
    issue_ref TEXT,
    message TEXT NOT NULL,
    agent TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'error', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    not_before INTEGER,
    wait_reason TEXT,
    last_error TEXT,
    result TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX tasks_by_state ON tasks (state, id);
  CREATE INDEX tasks_by_ref ON tasks (issue_ref, id);

  CREATE TABLE sessions (
    issue_ref TEXT PRIMARY KEY,
    workspace_key TEXT NOT NULL UNIQUE,
    server_name TEXT NOT NULL,
    repo_path TEXT NOT NULL,
    worktree_path TEXT NOT NULL,
    branch TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('idle', 'used', 'left')),
    agent TEXT NOT NULL,
    agent_session_id TEXT,
    last_message TEXT,
    last_task_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_state ON sessions (state);

  -- One row per running task: who owns it and which agent process it runs. Rows with
  -- counts = 1 are dev-agent slots; their number is how many agent processes may be alive, and
  -- it is only ever raised inside a BEGIN IMMEDIATE transaction that counts first.
  -- PM-agent claims (counts = 0) are outside the cap but recovered the same way.
  CREATE TABLE slots (
    task_id INTEGER PRIMARY KEY REFERENCES tasks (id),
    counts INTEGER NOT NULL CHECK (counts IN (0, 1)),
    owner_pid INTEGER NOT NULL,
    owner_start TEXT NOT NULL,
    agent_pid INTEGER,
    agent_start TEXT,
    claimed_at INTEGER NOT NULL
  );

  CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    mode TEXT NOT NULL,
    transcript TEXT NOT NULL,
    pid INTEGER,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    exit_code INTEGER,
    outcome TEXT
  );
  CREATE INDEX runs_by_task ON runs (task_id, id);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    issue_ref TEXT,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
  );
  CREATE INDEX events_unread ON events (read_at, id);

  -- How far each notification sink has delivered, so a restart neither loses nor repeats.
  CREATE TABLE sink_cursors (
    sink TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL
  );

  -- Singleton facts: the daemon lock, the base and PM agent sessions.
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: Telegram. A push is recorded per event and chat, so a restart neither loses nor repeats
  // one, and a reply to a notification finds its task. Conversation state survives restarts.
  `
  CREATE TABLE chat_deliveries (
    event_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    task_id INTEGER NOT NULL,
    issue_ref TEXT,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, chat_id)
  );
  CREATE INDEX chat_deliveries_by_message ON chat_deliveries (chat_id, message_id);

  CREATE TABLE bot_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 3: real agents. Tasks may end needing the user's input, carry their own model, and every
  // run records the tokens and cost its agent reported. SQLite cannot alter a CHECK, so the
  // tasks table is rebuilt (the migrator runs with foreign keys off, as SQLite prescribes).
  `
  CREATE TABLE tasks_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('dev', 'pm')),
    mode TEXT NOT NULL CHECK (mode IN ('start', 'continue', 'resume')),
    issue_ref TEXT,
    message TEXT NOT NULL,
    agent TEXT NOT NULL,
    model TEXT,
    state TEXT NOT NULL
      CHECK (state IN ('pending', 'running', 'completed', 'needs_input', 'error', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    not_before INTEGER,
    wait_reason TEXT,
    last_error TEXT,
    result TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  INSERT INTO tasks_new (id, kind, mode, issue_ref, message, agent, state, attempts, max_attempts,
      not_before, wait_reason, last_error, result, cancel_requested, created_at, started_at, finished_at)
    SELECT id, kind, mode, issue_ref, message, agent, state, attempts, max_attempts,
      not_before, wait_reason, last_error, result, cancel_requested, created_at, started_at, finished_at
    FROM tasks;
  DROP TABLE tasks;
  ALTER TABLE tasks_new RENAME TO tasks;
  CREATE INDEX tasks_by_state ON tasks (state, id);
  CREATE INDEX tasks_by_ref ON tasks (issue_ref, id);

  ALTER TABLE runs ADD COLUMN input_tokens INTEGER;
  ALTER TABLE runs ADD COLUMN output_tokens INTEGER;
  ALTER TABLE runs ADD COLUMN cache_read_tokens INTEGER;
  ALTER TABLE runs ADD COLUMN cache_write_tokens INTEGER;
  ALTER TABLE runs ADD COLUMN cost_usd REAL;
  CREATE INDEX runs_by_start ON runs (started_at);
  `,
  // 4: forges. A session remembers its pull request and the states last seen of it and of its
  // issue (list, prune, destroy). Intake watches repositories; every issue or comment it acted
  // on is recorded under a unique key, so nothing is queued twice.
  `
  ALTER TABLE sessions ADD COLUMN pr_number INTEGER;
  ALTER TABLE sessions ADD COLUMN pr_url TEXT;
  ALTER TABLE sessions ADD COLUMN pr_state TEXT;
  ALTER TABLE sessions ADD COLUMN issue_state TEXT;

  CREATE TABLE intake_repos (
    server_name TEXT NOT NULL,
    repo_path TEXT NOT NULL,
    label TEXT NOT NULL,
    mention TEXT NOT NULL,
    issues_etag TEXT,
    issues_last_modified TEXT,
    comments_etag TEXT,
    comments_last_modified TEXT,
    comments_since INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (server_name, repo_path)
  );

  CREATE TABLE intake_seen (
    key TEXT PRIMARY KEY,
    task_id INTEGER,
    seen_at INTEGER NOT NULL
  );
  `,
  // 5: approvals. An agent's request for a permission or an answer is a row until the first
  // answer resolves it; "allow for this task" leaves a grant. Events carry structured data (the
  // approval they are about), so interfaces need not parse it back out of the message.
  `
  ALTER TABLE events ADD COLUMN data TEXT;

  CREATE TABLE approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('permission', 'question', 'stall')),
    tool TEXT NOT NULL,
    category TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason TEXT,
    options TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL CHECK (state IN ('open', 'allowed', 'denied', 'answered', 'expired')),
    scope TEXT CHECK (scope IN ('once', 'task')),
    answer TEXT,
    answered_channel TEXT,
    answered_by TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    resolved_at INTEGER
  );
  CREATE INDEX approvals_open ON approvals (state, task_id);

  CREATE TABLE approval_grants (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    approval_id INTEGER NOT NULL,
    PRIMARY KEY (task_id, category)
  );
  `,
  // 6: attachments. Files that come with a task (staged under the home's attachments/, copied
  // into its workspace by the runner), written in the task's own transaction; they go with it.
  `
  CREATE TABLE task_attachments (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (task_id, seq)
  );
  `,
  // 7: forum topics. In a notification chat with topics, each session has one; messages written
  // in it continue that session. Closed (not forgotten) when the session goes.
  `
  CREATE TABLE chat_topics (
    chat_id INTEGER NOT NULL,
    issue_ref TEXT NOT NULL,
    thread_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    closed_at INTEGER,
    PRIMARY KEY (chat_id, issue_ref)
  );
  CREATE UNIQUE INDEX chat_topics_by_thread ON chat_topics (chat_id, thread_id);
  `,
  // 8: batched pushes. A delivery is a message of its own, an edit of the task's earlier message,
  // or a line in a chat's digest; replies and progress edits go by the first two only.
  `
  ALTER TABLE chat_deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'message'
    CHECK (kind IN ('message', 'edit', 'digest'));
  CREATE INDEX chat_deliveries_recent ON chat_deliveries (chat_id, sent_at);
  `,
  // 9: HTTP API tokens, kept as sha256 hashes only, and the one-time codes of login links.
  `
  CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    read_only INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE api_login_codes (
    code_hash TEXT PRIMARY KEY,
    read_only INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
  );
  `,
  // 10: several machines on one database. Workers heartbeat; a slot names the worker that holds
  // it and the fencing token of its claim (handed out in increasing order from `counters`); a
  // session names the worker whose machine holds its worktree (NULL: any, one machine); named
  // leases elect one bot and one API for the fleet.
  `
  CREATE TABLE workers (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    max_agents INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );
  ALTER TABLE slots ADD COLUMN worker TEXT;
  ALTER TABLE slots ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX slots_by_worker ON slots (worker);
  ALTER TABLE sessions ADD COLUMN worker TEXT;
  CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  INSERT INTO counters (name, value) VALUES ('fence', 0);
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  // 11: a claim reads the head of the queue, a page of each kind at a time, and forgets the
  // reasons it recorded past what it read: both through the pending rows alone.
  `
  CREATE INDEX tasks_pending ON tasks (kind, id) WHERE state = 'pending';
  CREATE INDEX tasks_pending_reasons ON tasks (kind, id)
    WHERE state = 'pending' AND wait_reason IS NOT NULL;
  `,
];
