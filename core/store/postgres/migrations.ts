/**
 * PostgreSQL's numbered schema migrations, applied in order, each in its own transaction under
 * an advisory lock, and recorded in `schema_migrations` (pg-db.ts). Never edit a shipped
 * migration: add the next one, beside the SQLite migration that makes the same change.
 *
 * The schema is SQLite's (../migrations.ts) in PostgreSQL's types: epoch-ms times and ids as
 * BIGINT, identity ids, flags as BOOLEAN, structured data as JSONB. It starts at SQLite's
 * version 8: no PostgreSQL database predates it.
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: the schema of SQLite's version 8.
  `
  CREATE TABLE servers (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    host TEXT,
    api_url TEXT,
    token_env TEXT,
    is_default BOOLEAN NOT NULL DEFAULT false
  );

  CREATE TABLE tasks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    not_before BIGINT,
    wait_reason TEXT,
    last_error TEXT,
    result TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT false,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
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
    last_task_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    pr_number INTEGER,
    pr_url TEXT,
    pr_state TEXT,
    issue_state TEXT
  );
  CREATE INDEX sessions_by_state ON sessions (state);

  -- One row per running task: who owns it and which agent process it runs. Rows with counts
  -- are dev-agent slots; their number is how many agent processes may be alive, and it is only
  -- ever raised by a claim, which holds the queue lock while it counts and inserts.
  -- PM-agent claims (counts = false) are outside the cap but recovered the same way.
  CREATE TABLE slots (
    task_id BIGINT PRIMARY KEY REFERENCES tasks (id),
    counts BOOLEAN NOT NULL,
    owner_pid INTEGER NOT NULL,
    owner_start TEXT NOT NULL,
    agent_pid INTEGER,
    agent_start TEXT,
    claimed_at BIGINT NOT NULL
  );

  CREATE TABLE runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    mode TEXT NOT NULL,
    transcript TEXT NOT NULL,
    pid INTEGER,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    exit_code INTEGER,
    outcome TEXT,
    input_tokens BIGINT,
    output_tokens BIGINT,
    cache_read_tokens BIGINT,
    cache_write_tokens BIGINT,
    cost_usd DOUBLE PRECISION
  );
  CREATE INDEX runs_by_task ON runs (task_id, id);
  CREATE INDEX runs_by_start ON runs (started_at);

  -- Ids are handed out under a lock taken just before COMMIT, so they become visible in order
  -- and a reader that follows them never skips one (pg-db.ts, flushEvents).
  CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type TEXT NOT NULL,
    task_id BIGINT NOT NULL,
    issue_ref TEXT,
    message TEXT NOT NULL,
    data JSONB,
    created_at BIGINT NOT NULL,
    read_at BIGINT
  );
  CREATE INDEX events_unread ON events (read_at, id);

  -- How far each notification sink has delivered, so a restart neither loses nor repeats.
  CREATE TABLE sink_cursors (
    sink TEXT PRIMARY KEY,
    last_event_id BIGINT NOT NULL
  );

  -- Singleton facts: the daemon lock, the base and PM agent sessions.
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  -- Telegram: a push per event and chat, so a restart neither loses nor repeats one; state of
  -- conversations; one forum topic per session and chat.
  CREATE TABLE chat_deliveries (
    event_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    task_id BIGINT NOT NULL,
    issue_ref TEXT,
    sent_at BIGINT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'edit', 'digest')),
    PRIMARY KEY (event_id, chat_id)
  );
  CREATE INDEX chat_deliveries_by_message ON chat_deliveries (chat_id, message_id);
  CREATE INDEX chat_deliveries_recent ON chat_deliveries (chat_id, sent_at);

  CREATE TABLE bot_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  );

  CREATE TABLE chat_topics (
    chat_id BIGINT NOT NULL,
    issue_ref TEXT NOT NULL,
    thread_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT,
    PRIMARY KEY (chat_id, issue_ref)
  );
  CREATE UNIQUE INDEX chat_topics_by_thread ON chat_topics (chat_id, thread_id);

  -- Forges: watched repositories, and every issue or comment intake acted on, under a unique
  -- key, so nothing is queued twice.
  CREATE TABLE intake_repos (
    server_name TEXT NOT NULL,
    repo_path TEXT NOT NULL,
    label TEXT NOT NULL,
    mention TEXT NOT NULL,
    issues_etag TEXT,
    issues_last_modified TEXT,
    comments_etag TEXT,
    comments_last_modified TEXT,
    comments_since BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (server_name, repo_path)
  );

  CREATE TABLE intake_seen (
    key TEXT PRIMARY KEY,
    task_id BIGINT,
    seen_at BIGINT NOT NULL
  );

  -- Approvals: a request is a row until the first answer resolves it; "allow for this task"
  -- leaves a grant.
  CREATE TABLE approvals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('permission', 'question', 'stall')),
    tool TEXT NOT NULL,
    category TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason TEXT,
    options JSONB NOT NULL DEFAULT '[]',
    state TEXT NOT NULL CHECK (state IN ('open', 'allowed', 'denied', 'answered', 'expired')),
    scope TEXT CHECK (scope IN ('once', 'task')),
    answer TEXT,
    answered_channel TEXT,
    answered_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    resolved_at BIGINT
  );
  CREATE INDEX approvals_open ON approvals (state, task_id);

  CREATE TABLE approval_grants (
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    approval_id BIGINT NOT NULL,
    PRIMARY KEY (task_id, category)
  );

  -- Files that come with a task, written in the task's own transaction; they go with it.
  CREATE TABLE task_attachments (
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (task_id, seq)
  );
  `,
  // 2: SQLite's version 9: HTTP API tokens (hashed) and the one-time codes of login links.
  `
  CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    read_only BOOLEAN NOT NULL DEFAULT false,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE api_login_codes (
    code_hash TEXT PRIMARY KEY,
    read_only BOOLEAN NOT NULL DEFAULT false,
    expires_at BIGINT NOT NULL
  );
  `,
  // 3: several machines on one database (SQLite's 10). Workers heartbeat; a slot names the
  // worker that holds it and the fencing token of its claim, from a sequence; a session names the
  // worker whose machine holds its worktree (NULL: any, one machine); named leases elect one
  // bot and one API for the fleet.
  `
  CREATE TABLE workers (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    max_agents INTEGER NOT NULL,
    last_seen BIGINT NOT NULL
  );
  CREATE SEQUENCE claim_fences;
  ALTER TABLE slots ADD COLUMN worker TEXT;
  ALTER TABLE slots ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
  CREATE INDEX slots_by_worker ON slots (worker);
  ALTER TABLE sessions ADD COLUMN worker TEXT;
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  `,
  // 4: SQLite's 11: a claim reads the head of the queue, a page of each kind at a time, and
  // forgets the reasons it recorded past what it read: both through the pending rows alone.
  `
  CREATE INDEX tasks_pending ON tasks (kind, id) WHERE state = 'pending';
  CREATE INDEX tasks_pending_reasons ON tasks (kind, id)
    WHERE state = 'pending' AND wait_reason IS NOT NULL;
  `,
];
