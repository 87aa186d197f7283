/**
 * The durable state of one KUGETSU_HOME: SQLite through better-sqlite3, WAL mode.
 * Every state change is one transaction; the ones that decide who may run take the write
 * lock first (BEGIN IMMEDIATE), so two processes can never both see a free slot.
 */
import Database from 'better-sqlite3';
import type {
  Usage,
  AgentName,
  EventData,
  EventType,
  KugetsuEvent,
  Server,
  Session,
  SessionPullRequest,
  Task,
  TaskAttachment,
  TaskKind,
  TaskMode,
  TaskState,
} from '../domain.js';
import { OperationError } from '../errors.js';
import { formatUsage } from '../usage.js';
import { isAlive, sameProcess, type ProcessIdentity } from '../process-info.js';
import { planDispatch, type DispatchPlan } from '../scheduler/dispatch-plan.js';
import { ApprovalRecords } from './approval-records.js';
import { eventText } from '../events/event-text.js';
import { MIGRATIONS } from './migrations.js';
import {
  toEvent,
  toIntakeRepo,
  toRun,
  toServer,
  toSession,
  toTask,
  type EventRow,
  type IntakeCursor,
  type IntakeRepo,
  type IntakeRepoRow,
  type NewIntakeRepo,
  type RunRecord,
  type RunRow,
  type ServerRow,
  type SessionRow,
  type SlotRow,
  type TaskRow,
} from './rows.js';

type Db = Database.Database;

export type SessionTask = Pick<Task, 'id' | 'state' | 'attempts' | 'maxAttempts'>;

export interface NewTask {
  kind: TaskKind;
  mode: TaskMode;
  issueRef: string | null;
  message: string;
  agent: AgentName;
  model?: string | null;
  maxAttempts: number;
  /** Files that come with it, stored in the same transaction. */
  attachments?: readonly TaskAttachment[];
}

export type NewSession = Omit<
  Session,
  | 'state'
  | 'agentSessionId'
  | 'lastMessage'
  | 'lastTaskId'
  | 'createdAt'
  | 'updatedAt'
  | 'pullRequest'
  | 'issueState'
>;

export interface ClaimParams {
  owner: ProcessIdentity;
  maxAgents: number;
  availableMemoryMb: number | null;
  minFreeMemoryMb: number;
}

export interface ClaimResult {
  claimed: Task[];
  nextWakeAt: number | null;
  memoryBlocked: boolean;
}

/** How an attempt ended, as the runner saw it. The store turns it into task/session states. */
export type AttemptOutcome =
  | { kind: 'completed'; result: string; agentSessionId: string | null }
  | {
      kind: 'failed';
      error: string;
      agentSessionId: string | null;
      /** Set when another attempt follows: the delay before it. */
      retryDelayMs: number | null;
    }
  | { kind: 'needs_input'; question: string; agentSessionId: string | null }
  | { kind: 'cancelled'; agentSessionId: string | null }
  /** The run was cut short by kugetsu itself (daemon stop, crash): not the task's fault. */
  | { kind: 'interrupted'; agentSessionId: string | null };

export interface SlotRecord {
  taskId: number;
  counts: boolean;
  owner: ProcessIdentity;
  agent: ProcessIdentity | null;
  claimedAt: number;
}

export interface QueueStats {
  pending: number;
  running: number;
  completed: number;
  needsInput: number;
  error: number;
  cancelled: number;
  slotsHeld: number;
}

const DAEMON_LOCK = 'daemon_owner';

/** Usage summed over the runs a query selects, as JSON, or NULL when none reported any. */
const USAGE_JSON = `CASE WHEN COUNT(runs.input_tokens) = 0 THEN NULL ELSE json_object(
    'inputTokens', SUM(COALESCE(runs.input_tokens, 0)),
    'outputTokens', SUM(COALESCE(runs.output_tokens, 0)),
    'cacheReadTokens', SUM(COALESCE(runs.cache_read_tokens, 0)),
    'cacheWriteTokens', SUM(COALESCE(runs.cache_write_tokens, 0)),
    'costUsd', SUM(runs.cost_usd)) END`;

/** Task columns plus the usage summed over its runs (one indexed subquery per row). */
const TASK_COLUMNS = `tasks.*,
  (SELECT ${USAGE_JSON} FROM runs WHERE runs.task_id = tasks.id) AS usage_json`;

/** " · 12.3k tokens, $0.04" for event lines, or nothing when no usage was reported. */
function usageNote(usage: Usage | null): string {
  return usage === null ? '' : ` · ${formatUsage(usage)}`;
}

export class Store {
  readonly db: Db;
  readonly approvals: ApprovalRecords;

  private constructor(db: Db) {
    this.db = db;
    this.approvals = new ApprovalRecords({
      stmt: (sql) => this.stmt(sql),
      immediate: (fn) => this.immediate(fn),
      insertEvent: (type, taskId, issueRef, data, now) =>
        this.insertEvent(
          type,
          taskId,
          issueRef,
          eventText(type, taskId, issueRef ?? 'the PM agent', data),
          now,
          data,
        ),
    });
  }

  /** Opens (creating if needed) the database and applies pending migrations. */
  static open(file: string): Store {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    // Several processes share one home; waiting briefly for the write lock beats failing.
    db.pragma('busy_timeout = 10000');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const store = new Store(db);
    store.migrate();
    return store;
  }

  /** A store over a connection already opened and migrated (SqliteDb.open). */
  static over(db: Db): Store {
    return new Store(db);
  }

  // Prepared once per SQL text: re-preparing on every call churns native statement objects
  // that a long-lived daemon would otherwise accumulate until the GC gets to them.
  private readonly statements = new Map<string, Database.Statement>();

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new OperationError(
        `kugetsu.db has schema version ${current}, newer than this kugetsu (${MIGRATIONS.length}): upgrade kugetsu`,
      );
    }
    if (current === MIGRATIONS.length) return;
    // A migration may rebuild a table others reference; SQLite requires foreign keys off for
    // that, and the pragma has no effect inside a transaction.
    this.db.pragma('foreign_keys = OFF');
    try {
      for (let version = current; version < MIGRATIONS.length; version += 1) {
        const sql = MIGRATIONS[version] ?? '';
        this.immediate(() => {
          // Another process may have migrated while we waited for the lock.
          const now = this.db.pragma('user_version', { simple: true }) as number;
          if (now > version) return;
          this.db.exec(sql);
          const broken = this.db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) {
            throw new OperationError(`migration ${version + 1} broke ${broken.length} references`);
          }
          this.db.pragma(`user_version = ${version + 1}`);
        });
      }
    } finally {
      this.db.pragma('foreign_keys = ON');
    }
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction: the write lock is held from the first read. */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- servers ----

  listServers(): Server[] {
    const rows = this.stmt('SELECT * FROM servers ORDER BY name').all() as ServerRow[];
    return rows.map(toServer);
  }

  getServer(name: string): Server | null {
    const row = this.stmt('SELECT * FROM servers WHERE name = ?').get(name) as
      ServerRow | undefined;
    return row === undefined ? null : toServer(row);
  }

  addServer(server: Server): void {
    this.immediate(() => {
      if (this.getServer(server.name) !== null) {
        throw new OperationError(`server ${server.name} already exists: remove it first`);
      }
      const first = this.listServers().length === 0;
      this.stmt(
        `INSERT INTO servers (name, kind, url, host, api_url, token_env, is_default)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        server.name,
        server.kind,
        server.url,
        server.host,
        server.apiUrl,
        server.tokenEnv,
        server.isDefault || first ? 1 : 0,
      );
      if (server.isDefault) this.markDefault(server.name);
    });
  }

  removeServer(name: string): boolean {
    return this.stmt('DELETE FROM servers WHERE name = ?').run(name).changes > 0;
  }

  setDefaultServer(name: string): void {
    this.immediate(() => {
      if (this.getServer(name) === null) throw new OperationError(`server ${name} not found`);
      this.markDefault(name);
    });
  }

  private markDefault(name: string): void {
    this.stmt('UPDATE servers SET is_default = (name = ?)').run(name);
  }

  // ---- tasks ----

  /** Queues a task and records `task_queued` in the same transaction. */
  enqueueTask(task: NewTask, session: NewSession | null, now = Date.now()): Task {
    return this.immediate(() => {
      if (session !== null) this.insertSessionIfMissing(session, now);
      const info = this.stmt(
        `INSERT INTO tasks (kind, mode, issue_ref, message, agent, model, state, max_attempts, created_at)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      ).run(
        task.kind,
        task.mode,
        task.issueRef,
        task.message,
        task.agent,
        task.model ?? null,
        task.maxAttempts,
        now,
      );
      const id = Number(info.lastInsertRowid);
      const attach = this.stmt(
        'INSERT INTO task_attachments (task_id, seq, name, path, mime, size) VALUES (?, ?, ?, ?, ?, ?)',
      );
      (task.attachments ?? []).forEach((a, seq) =>
        attach.run(id, seq, a.name, a.path, a.mime, a.size),
      );
      const target = task.issueRef ?? 'the PM agent';
      this.insertEvent(
        'task_queued',
        id,
        task.issueRef,
        `#${id} ${task.mode} queued for ${target}`,
        now,
        { mode: task.mode },
      );
      return this.mustGetTask(id);
    });
  }

  getTask(id: number): Task | null {
    const row = this.stmt(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(id) as
      TaskRow | undefined;
    return row === undefined ? null : toTask(row);
  }

  private mustGetTask(id: number): Task {
    const task = this.getTask(id);
    if (task === null) throw new OperationError(`task ${id} not found`);
    return task;
  }

  listTasks(
    filter: { states?: readonly string[]; issueRef?: string; limit?: number } = {},
  ): Task[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states !== undefined && filter.states.length > 0) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      params.push(...filter.states);
    }
    if (filter.issueRef !== undefined) {
      where.push('issue_ref = ?');
      params.push(filter.issueRef);
    }
    const sql = `SELECT ${TASK_COLUMNS} FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id ${filter.limit !== undefined ? `LIMIT ${Math.trunc(filter.limit)}` : ''}`;
    return (this.stmt(sql).all(...params) as TaskRow[]).map(toTask);
  }

  /** The files a task came with, in the order they were given. */
  taskAttachments(taskId: number): TaskAttachment[] {
    return this.stmt(
      'SELECT name, path, mime, size FROM task_attachments WHERE task_id = ? ORDER BY seq',
    ).all(taskId) as TaskAttachment[];
  }

  /** Every staged file some task still refers to (the rest may be cleaned up). */
  attachmentPaths(): string[] {
    return (this.stmt('SELECT path FROM task_attachments').all() as { path: string }[]).map(
      (r) => r.path,
    );
  }

  /** The running or newest task of a session. */
  latestTaskFor(issueRef: string): Task | null {
    const row = this.stmt(
      `SELECT ${TASK_COLUMNS} FROM tasks WHERE issue_ref = ?
         ORDER BY (state = 'running') DESC, id DESC LIMIT 1`,
    ).get(issueRef) as TaskRow | undefined;
    return row === undefined ? null : toTask(row);
  }

  queueStats(): QueueStats {
    const rows = this.stmt('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state').all() as {
      state: string;
      n: number;
    }[];
    const count = (state: string): number => rows.find((r) => r.state === state)?.n ?? 0;
    return {
      pending: count('pending'),
      running: count('running'),
      completed: count('completed'),
      needsInput: count('needs_input'),
      error: count('error'),
      cancelled: count('cancelled'),
      slotsHeld: this.countedSlots(),
    };
  }

  /**
   * Cancels a pending task at once; a running one is marked for its owner to stop (it ends
   * `cancelled` once the agent has exited). Returns the task as it stands.
   */
  cancelTask(id: number, now = Date.now()): Task {
    return this.immediate(() => {
      const task = this.mustGetTask(id);
      if (task.state === 'pending') {
        this.stmt(
          `UPDATE tasks SET state = 'cancelled', finished_at = ?, wait_reason = NULL WHERE id = ?`,
        ).run(now, id);
        this.insertEvent(
          'task_cancelled',
          id,
          task.issueRef,
          `#${id} cancelled before it ran`,
          now,
          { beforeRun: true },
        );
      } else if (task.state === 'running') {
        this.stmt('UPDATE tasks SET cancel_requested = 1 WHERE id = ?').run(id);
      } else {
        throw new OperationError(`task ${id} is already ${task.state}: nothing to cancel`);
      }
      return this.mustGetTask(id);
    });
  }

  /** Puts a failed or cancelled task back in the queue with fresh attempts. */
  retryTask(id: number, now = Date.now()): Task {
    return this.immediate(() => {
      const task = this.mustGetTask(id);
      if (task.state !== 'error' && task.state !== 'cancelled' && task.state !== 'needs_input') {
        throw new OperationError(
          `task ${id} is ${task.state}: only failed, cancelled or waiting tasks can be retried`,
        );
      }
      this.stmt(
        `UPDATE tasks SET state = 'pending', attempts = 0, not_before = NULL, last_error = NULL,
           cancel_requested = 0, finished_at = NULL, wait_reason = NULL WHERE id = ?`,
      ).run(id);
      this.insertEvent('task_queued', id, task.issueRef, `#${id} queued again by retry`, now, {
        mode: task.mode,
        requeued: true,
      });
      return this.mustGetTask(id);
    });
  }

  /** Deletes finished tasks (and their runs and events) finished before `before`. */
  deleteFinishedTasks(before: number): number {
    return this.immediate(() => {
      const ids = (
        this.stmt(
          `SELECT id FROM tasks WHERE state IN ('completed', 'needs_input', 'error', 'cancelled')
             AND COALESCE(finished_at, created_at) < ?`,
        ).all(before) as { id: number }[]
      ).map((r) => r.id);
      const delEvents = this.stmt('DELETE FROM events WHERE task_id = ?');
      const delTask = this.stmt('DELETE FROM tasks WHERE id = ?');
      for (const id of ids) {
        delEvents.run(id);
        delTask.run(id);
      }
      return ids.length;
    });
  }

  /** Cancels every pending task; returns how many. */
  cancelAllPending(now = Date.now()): number {
    return this.immediate(() => {
      const pending = this.listTasks({ states: ['pending'] });
      for (const task of pending) this.cancelTask(task.id, now);
      return pending.length;
    });
  }

  // ---- claiming, the concurrency invariant ----

  /**
   * Claims every task that may start now, in one BEGIN IMMEDIATE transaction: count the
   * slots, plan, insert the slots. Another process blocks on the write lock until this commits,
   * then counts the slots inserted here — the check-then-spawn race cannot happen.
   * Also records why each other pending task waits.
   */
  claimTasks(params: ClaimParams, now = Date.now()): ClaimResult {
    return this.immediate(() => {
      const slotsHeld = this.countedSlots();
      const running = this.stmt(
        `SELECT kind, issue_ref FROM tasks WHERE state = 'running'`,
      ).all() as { kind: string; issue_ref: string | null }[];
      const pending = this.stmt(
        `SELECT id, kind, issue_ref, not_before, wait_reason FROM tasks WHERE state = 'pending' ORDER BY id`,
      ).all() as {
        id: number;
        kind: TaskKind;
        issue_ref: string | null;
        not_before: number | null;
        wait_reason: string | null;
      }[];
      const plan: DispatchPlan = planDispatch({
        now,
        maxAgents: params.maxAgents,
        slotsHeld,
        busyRefs: new Set(
          running.filter((r) => r.issue_ref !== null).map((r) => r.issue_ref as string),
        ),
        pmRunning: running.some((r) => r.kind === 'pm'),
        pending: pending.map((p) => ({
          id: p.id,
          kind: p.kind,
          issueRef: p.issue_ref,
          notBefore: p.not_before,
        })),
        availableMemoryMb: params.availableMemoryMb,
        minFreeMemoryMb: params.minFreeMemoryMb,
      });

      const setReason = this.stmt('UPDATE tasks SET wait_reason = ? WHERE id = ?');
      for (const p of pending) {
        const reason = plan.waiting.get(p.id) ?? null;
        if (reason !== p.wait_reason) setReason.run(reason, p.id);
      }

      const claimed: Task[] = [];
      for (const id of plan.claim) {
        const task = this.mustGetTask(id);
        this.stmt(
          'INSERT INTO slots (task_id, counts, owner_pid, owner_start, claimed_at) VALUES (?, ?, ?, ?, ?)',
        ).run(id, task.kind === 'dev' ? 1 : 0, params.owner.pid, params.owner.start, now);
        this.stmt(
          `UPDATE tasks SET state = 'running', attempts = attempts + 1, started_at = ?,
             wait_reason = NULL, not_before = NULL WHERE id = ?`,
        ).run(now, id);
        if (task.issueRef !== null) {
          this.stmt(
            `UPDATE sessions SET state = 'used', last_task_id = ?, updated_at = ? WHERE issue_ref = ?`,
          ).run(id, now, task.issueRef);
        }
        const attempt = task.attempts + 1;
        this.insertEvent(
          'task_dequeued',
          id,
          task.issueRef,
          `#${id} dequeued (attempt ${attempt}/${task.maxAttempts})`,
          now,
          { attempt, maxAttempts: task.maxAttempts },
        );
        claimed.push(this.mustGetTask(id));
      }
      return { claimed, nextWakeAt: plan.nextWakeAt, memoryBlocked: plan.memoryBlocked };
    });
  }

  /** Dev-agent slots held: the number the concurrency invariant bounds. */
  countedSlots(): number {
    return (this.stmt('SELECT COUNT(*) AS n FROM slots WHERE counts = 1').get() as { n: number }).n;
  }

  /** Records the spawned agent's identity on its slot, so a later owner can find and judge it. */
  recordAgentProcess(taskId: number, agent: ProcessIdentity): void {
    this.stmt('UPDATE slots SET agent_pid = ?, agent_start = ? WHERE task_id = ?').run(
      agent.pid,
      agent.start,
      taskId,
    );
  }

  listSlots(): SlotRecord[] {
    const rows = this.stmt('SELECT * FROM slots ORDER BY task_id').all() as SlotRow[];
    return rows.map((r) => ({
      taskId: r.task_id,
      counts: r.counts === 1,
      owner: { pid: r.owner_pid, start: r.owner_start },
      agent: r.agent_pid === null ? null : { pid: r.agent_pid, start: r.agent_start ?? '' },
      claimedAt: r.claimed_at,
    }));
  }

  /** Running tasks whose owning process is gone (crashed daemon): candidates for recovery. */
  orphanedRunningTasks(): { task: Task; slot: SlotRecord | null }[] {
    const slots = new Map(this.listSlots().map((s) => [s.taskId, s]));
    const orphans: { task: Task; slot: SlotRecord | null }[] = [];
    for (const task of this.listTasks({ states: ['running'] })) {
      const slot = slots.get(task.id) ?? null;
      if (slot !== null && isAlive(slot.owner)) continue;
      orphans.push({ task, slot });
    }
    return orphans;
  }

  // ---- runs and attempt outcomes ----

  startRun(
    taskId: number,
    attempt: number,
    mode: TaskMode,
    transcript: string,
    now = Date.now(),
  ): number {
    const info = this.stmt(
      'INSERT INTO runs (task_id, attempt, mode, transcript, started_at) VALUES (?, ?, ?, ?, ?)',
    ).run(taskId, attempt, mode, transcript, now);
    return Number(info.lastInsertRowid);
  }

  markRunSpawned(
    runId: number,
    taskId: number,
    pid: number,
    message: string,
    now = Date.now(),
  ): void {
    this.immediate(() => {
      this.stmt('UPDATE runs SET pid = ? WHERE id = ?').run(pid, runId);
      const task = this.mustGetTask(taskId);
      this.insertEvent('task_started', taskId, task.issueRef, message, now, {
        attempt: task.attempts,
        maxAttempts: task.maxAttempts,
      });
    });
  }

  /** The usage a running agent reported so far: budgets and `list` see it before the run ends. */
  recordRunUsage(runId: number, usage: Usage): void {
    this.stmt(
      `UPDATE runs SET input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,
         cache_write_tokens = ?, cost_usd = ? WHERE id = ?`,
    ).run(
      usage.inputTokens,
      usage.outputTokens,
      usage.cacheReadTokens,
      usage.cacheWriteTokens,
      usage.costUsd,
      runId,
    );
  }

  /** Budget tokens (input + output + cache writes) of every run started at or after `since`. */
  budgetTokensSince(since: number): number {
    const row = this.stmt(
      `SELECT COALESCE(SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)
         + COALESCE(cache_write_tokens, 0)), 0) AS n FROM runs WHERE started_at >= ?`,
    ).get(since) as { n: number };
    return row.n;
  }

  listRuns(taskId: number): RunRecord[] {
    const rows = this.stmt('SELECT * FROM runs WHERE task_id = ? ORDER BY id').all(
      taskId,
    ) as RunRow[];
    return rows.map(toRun);
  }

  latestRuns(limit: number): (RunRecord & { issueRef: string | null })[] {
    const rows = this.stmt(
      `SELECT runs.*, tasks.issue_ref FROM runs JOIN tasks ON tasks.id = runs.task_id
         ORDER BY runs.id DESC LIMIT ?`,
    ).all(limit) as (RunRow & { issue_ref: string | null })[];
    return rows.map((r) => ({ ...toRun(r), issueRef: r.issue_ref }));
  }

  /**
   * Ends an attempt in one transaction: the slot is released (the caller has reaped the
   * agent's whole process group), the task and session take their next states, and the
   * matching event is recorded.
   */
  finishAttempt(
    taskId: number,
    runId: number | null,
    exitCode: number | null,
    outcome: AttemptOutcome,
    usage: Usage | null = null,
    now = Date.now(),
  ): Task {
    return this.immediate(() => {
      const task = this.mustGetTask(taskId);
      this.stmt('DELETE FROM slots WHERE task_id = ?').run(taskId);
      // Nothing is waiting for these answers any more; the pushes that asked are edited.
      this.approvals.closeOpenForTask(taskId, 'the attempt ended', now);
      if (runId !== null && usage !== null) this.recordRunUsage(runId, usage);
      if (runId !== null) {
        this.stmt('UPDATE runs SET finished_at = ?, exit_code = ?, outcome = ? WHERE id = ?').run(
          now,
          exitCode,
          outcome.kind,
          runId,
        );
      }
      const ref = task.issueRef;
      const sessionState =
        outcome.kind === 'cancelled' || outcome.kind === 'interrupted' ? 'left' : 'idle';
      if (ref !== null) {
        this.stmt(
          `UPDATE sessions SET state = ?, agent_session_id = COALESCE(?, agent_session_id),
             last_message = ?, updated_at = ? WHERE issue_ref = ?`,
        ).run(sessionState, outcome.agentSessionId, task.message, now, ref);
      }
      const label = `#${taskId}`;
      const spentUsage = this.getTask(taskId)?.usage ?? null;
      const spent = usageNote(spentUsage);
      switch (outcome.kind) {
        case 'completed':
          this.stmt(
            `UPDATE tasks SET state = 'completed', result = ?, finished_at = ?, last_error = NULL WHERE id = ?`,
          ).run(outcome.result, now, taskId);
          this.insertEvent(
            'task_completed',
            taskId,
            ref,
            `${label} completed: ${outcome.result}${spent}`,
            now,
            { result: outcome.result, usage: spentUsage },
          );
          break;
        case 'needs_input':
          this.stmt(
            `UPDATE tasks SET state = 'needs_input', result = ?, finished_at = ?, last_error = NULL WHERE id = ?`,
          ).run(outcome.question, now, taskId);
          this.insertEvent(
            'task_needs_input',
            taskId,
            ref,
            `${label} needs your input: ${outcome.question}${spent}`,
            now,
            { question: outcome.question, usage: spentUsage },
          );
          break;
        case 'failed':
          if (outcome.retryDelayMs !== null) {
            this.stmt(
              `UPDATE tasks SET state = 'pending', not_before = ?, last_error = ? WHERE id = ?`,
            ).run(now + outcome.retryDelayMs, outcome.error, taskId);
            this.insertEvent(
              'task_retrying',
              taskId,
              ref,
              `${label} attempt ${task.attempts}/${task.maxAttempts} failed (${outcome.error}); retrying in ${Math.round(outcome.retryDelayMs / 1000)}s`,
              now,
              {
                error: outcome.error,
                attempt: task.attempts,
                maxAttempts: task.maxAttempts,
                retryDelayMs: outcome.retryDelayMs,
              },
            );
          } else {
            this.stmt(
              `UPDATE tasks SET state = 'error', last_error = ?, finished_at = ? WHERE id = ?`,
            ).run(outcome.error, now, taskId);
            this.insertEvent(
              'task_error',
              taskId,
              ref,
              `${label} failed after ${task.attempts} attempt${task.attempts === 1 ? '' : 's'}: ${outcome.error}${spent}`,
              now,
              {
                error: outcome.error,
                attempt: task.attempts,
                maxAttempts: task.maxAttempts,
                usage: spentUsage,
              },
            );
          }
          break;
        case 'cancelled':
          this.stmt(`UPDATE tasks SET state = 'cancelled', finished_at = ? WHERE id = ?`).run(
            now,
            taskId,
          );
          this.insertEvent('task_cancelled', taskId, ref, `${label} stopped`, now);
          break;
        case 'interrupted':
          // Not the task's fault: give the attempt back and resume the session when a daemon runs.
          this.stmt(
            `UPDATE tasks SET state = 'pending', mode = CASE WHEN kind = 'dev' THEN 'resume' ELSE mode END,
               attempts = MAX(attempts - 1, 0) WHERE id = ?`,
          ).run(taskId);
          break;
      }
      return this.mustGetTask(taskId);
    });
  }

  // ---- sessions ----

  private insertSessionIfMissing(session: NewSession, now: number): void {
    this.stmt(
      `INSERT OR IGNORE INTO sessions (issue_ref, workspace_key, server_name, repo_path,
         worktree_path, branch, state, agent, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'idle', ?, ?, ?)`,
    ).run(
      session.issueRef,
      session.workspaceKey,
      session.serverName,
      session.repoPath,
      session.worktreePath,
      session.branch,
      session.agent,
      now,
      now,
    );
  }

  getSession(issueRef: string): Session | null {
    const row = this.stmt('SELECT * FROM sessions WHERE issue_ref = ?').get(issueRef) as
      SessionRow | undefined;
    return row === undefined ? null : toSession(row);
  }

  listSessions(filter: { all: boolean }): Session[] {
    const sql = filter.all
      ? 'SELECT * FROM sessions ORDER BY updated_at DESC, issue_ref'
      : `SELECT * FROM sessions WHERE state IN ('used', 'left') ORDER BY updated_at DESC, issue_ref`;
    return (this.stmt(sql).all() as SessionRow[]).map(toSession);
  }

  /** Sessions with their running or newest task, in one query. */
  listSessionsWithTask(filter: { all: boolean }): {
    session: Session;
    task: SessionTask | null;
    /** Summed over every run of every task of the session. */
    usage: Usage | null;
  }[] {
    const rows = this.stmt(
      `SELECT s.*, t.id AS t_id, t.state AS t_state, t.attempts AS t_attempts, t.max_attempts AS t_max,
           (SELECT ${USAGE_JSON} FROM tasks st JOIN runs ON runs.task_id = st.id
              WHERE st.issue_ref = s.issue_ref) AS usage_json
         FROM sessions s
         LEFT JOIN tasks t ON t.id = (
           SELECT id FROM tasks WHERE issue_ref = s.issue_ref
           ORDER BY (state = 'running') DESC, id DESC LIMIT 1)
         ${filter.all ? '' : `WHERE s.state IN ('used', 'left')`}
         ORDER BY s.updated_at DESC, s.issue_ref`,
    ).all() as (SessionRow & {
      t_id: number | null;
      t_state: string | null;
      t_attempts: number | null;
      t_max: number | null;
      usage_json: string | null;
    })[];
    return rows.map((row) => ({
      session: toSession(row),
      usage: row.usage_json === null ? null : (JSON.parse(row.usage_json) as Usage),
      task:
        row.t_id === null
          ? null
          : {
              id: row.t_id,
              state: row.t_state as TaskState,
              attempts: row.t_attempts ?? 0,
              maxAttempts: row.t_max ?? 0,
            },
    }));
  }

  clearAgentSessionId(issueRef: string): void {
    this.stmt('UPDATE sessions SET agent_session_id = NULL WHERE issue_ref = ?').run(issueRef);
  }

  setAgentSessionId(issueRef: string, agentSessionId: string): void {
    this.stmt('UPDATE sessions SET agent_session_id = ? WHERE issue_ref = ?').run(
      agentSessionId,
      issueRef,
    );
  }

  /** Records the session's pull request as last seen on its forge. */
  setSessionPullRequest(issueRef: string, pr: SessionPullRequest): void {
    this.stmt(
      'UPDATE sessions SET pr_number = ?, pr_url = ?, pr_state = ? WHERE issue_ref = ?',
    ).run(pr.number, pr.url, pr.state, issueRef);
  }

  setSessionIssueState(issueRef: string, state: 'open' | 'closed'): void {
    this.stmt('UPDATE sessions SET issue_state = ? WHERE issue_ref = ?').run(state, issueRef);
  }

  /** Deletes a session that is not running; pending tasks for it are cancelled with it. */
  deleteSession(issueRef: string, now = Date.now()): void {
    this.immediate(() => {
      const session = this.getSession(issueRef);
      if (session === null) return;
      if (session.state === 'used') {
        throw new OperationError(`session ${issueRef} is in use: stop it first`);
      }
      for (const task of this.listTasks({ states: ['pending'], issueRef }))
        this.cancelTask(task.id, now);
      this.stmt('DELETE FROM sessions WHERE issue_ref = ?').run(issueRef);
    });
  }

  // ---- events ----

  private insertEvent(
    type: EventType,
    taskId: number,
    issueRef: string | null,
    message: string,
    now: number,
    data: EventData = {},
  ): void {
    this.stmt(
      'INSERT INTO events (type, task_id, issue_ref, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      type,
      taskId,
      issueRef,
      message,
      Object.keys(data).length === 0 ? null : JSON.stringify(data),
      now,
    );
  }

  listEvents(filter: { unreadOnly: boolean; afterId?: number; limit?: number }): KugetsuEvent[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.unreadOnly) where.push('read_at IS NULL');
    if (filter.afterId !== undefined) {
      where.push('id > ?');
      params.push(filter.afterId);
    }
    const sql = `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id ${filter.limit !== undefined ? `LIMIT ${Math.trunc(filter.limit)}` : ''}`;
    return (this.stmt(sql).all(...params) as EventRow[]).map(toEvent);
  }

  markEventsRead(now = Date.now()): number {
    return this.stmt('UPDATE events SET read_at = ? WHERE read_at IS NULL').run(now).changes;
  }

  /** The last event delivered to `sink`; null for a sink never seen. */
  sinkCursor(sink: string): number | null {
    const row = this.stmt('SELECT last_event_id FROM sink_cursors WHERE sink = ?').get(sink) as
      { last_event_id: number } | undefined;
    return row?.last_event_id ?? null;
  }

  latestEventId(): number {
    const row = this.stmt('SELECT MAX(id) AS id FROM events').get() as { id: number | null };
    return row.id ?? 0;
  }

  setSinkCursor(sink: string, lastEventId: number): void {
    this.stmt(
      `INSERT INTO sink_cursors (sink, last_event_id) VALUES (?, ?)
         ON CONFLICT (sink) DO UPDATE SET last_event_id = excluded.last_event_id`,
    ).run(sink, lastEventId);
  }

  // ---- intake ----

  upsertIntakeRepo(repo: NewIntakeRepo, now = Date.now()): IntakeRepo {
    this.stmt(
      `INSERT INTO intake_repos (server_name, repo_path, label, mention, comments_since, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (server_name, repo_path) DO UPDATE SET label = excluded.label,
           mention = excluded.mention`,
    ).run(repo.serverName, repo.repoPath, repo.label, repo.mention, now, now);
    const saved = this.listIntakeRepos().find(
      (r) => r.serverName === repo.serverName && r.repoPath === repo.repoPath,
    );
    if (saved === undefined) throw new Error('intake repository vanished after its insert');
    return saved;
  }

  removeIntakeRepo(serverName: string, repoPath: string): boolean {
    return (
      this.stmt('DELETE FROM intake_repos WHERE server_name = ? AND repo_path = ?').run(
        serverName,
        repoPath,
      ).changes > 0
    );
  }

  listIntakeRepos(): IntakeRepo[] {
    return (
      this.stmt(
        'SELECT * FROM intake_repos ORDER BY server_name, repo_path',
      ).all() as IntakeRepoRow[]
    ).map(toIntakeRepo);
  }

  /** Stores the validators and cursor a poll ended with. */
  saveIntakeCursor(serverName: string, repoPath: string, cursor: IntakeCursor): void {
    this.stmt(
      `UPDATE intake_repos SET issues_etag = ?, issues_last_modified = ?, comments_etag = ?,
         comments_last_modified = ?, comments_since = ? WHERE server_name = ? AND repo_path = ?`,
    ).run(
      cursor.issuesEtag,
      cursor.issuesLastModified,
      cursor.commentsEtag,
      cursor.commentsLastModified,
      cursor.commentsSince,
      serverName,
      repoPath,
    );
  }

  /**
   * Runs `act` only if `key` was never seen, and records it in the same transaction: an issue or
   * comment is acted on once, whatever crashes or concurrent pollers do. Returns act's result,
   * or null when the key was seen before.
   */
  onceForKey<T extends { taskId: number | null }>(
    key: string,
    act: () => T,
    now = Date.now(),
  ): T | null {
    return this.immediate(() => {
      if (this.stmt('SELECT 1 FROM intake_seen WHERE key = ?').get(key) !== undefined) return null;
      const result = act();
      this.stmt('INSERT INTO intake_seen (key, task_id, seen_at) VALUES (?, ?, ?)').run(
        key,
        result.taskId,
        now,
      );
      return result;
    });
  }

  // ---- meta and the daemon lock ----

  getMeta(key: string): string | null {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.stmt(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  deleteMeta(key: string): void {
    this.stmt('DELETE FROM meta WHERE key = ?').run(key);
  }

  /** The live daemon of this home, if any. */
  daemonOwner(): ProcessIdentity | null {
    const raw = this.getMeta(DAEMON_LOCK);
    if (raw === null) return null;
    const owner = JSON.parse(raw) as ProcessIdentity;
    return isAlive(owner) ? owner : null;
  }

  /**
   * Takes the one-daemon-per-home lock. Fails while another live daemon holds it; a lock left
   * by a dead daemon (checked by pid and start time) is taken over.
   */
  acquireDaemonLock(me: ProcessIdentity): { ok: true } | { ok: false; holder: ProcessIdentity } {
    return this.immediate(() => {
      const holder = this.daemonOwner();
      if (holder !== null && !sameProcess(holder, me)) {
        return { ok: false as const, holder };
      }
      this.setMeta(DAEMON_LOCK, JSON.stringify(me));
      return { ok: true as const };
    });
  }

  releaseDaemonLock(me: ProcessIdentity): void {
    this.immediate(() => {
      const raw = this.getMeta(DAEMON_LOCK);
      if (raw === null) return;
      const holder = JSON.parse(raw) as ProcessIdentity;
      if (sameProcess(holder, me)) this.deleteMeta(DAEMON_LOCK);
    });
  }
}
