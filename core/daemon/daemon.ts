/**
 * The queue daemon: one per home. It claims tasks in the store (the concurrency invariant
 * lives there), runs them through the TaskRunner, and pushes events to sinks. Dispatch is
 * event-driven: a wake-up on the socket, an attempt ending, or a backoff timer expiring;
 * the interval sweep is only a fallback.
 */
import type { Server as NetServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { rmSync, writeFileSync } from 'node:fs';
import PQueue from 'p-queue';
import { pruneStaging } from '../attachments.js';
import { OperationError, errorMessage } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import { availableMemoryMb } from '../memory.js';
import { logSink } from '../notifications/log-sink.js';
import type { NotificationSink } from '../notifications/notification-sink.js';
import { Notifier } from '../notifications/notifier.js';
import {
  currentProcess,
  groupAlive,
  isAlive,
  signalGroup,
  type ProcessIdentity,
} from '../process-info.js';
import { pollIntake } from '../operations/intake.js';
import { refreshForgeState } from '../operations/sessions.js';
import { homeRunner } from '../runner/home-runner.js';
import type { TaskRunner } from '../runner/task-runner.js';
import { listenForWakeups } from '../wake-channel.js';

export interface DaemonOptions {
  log: (line: string) => void;
  extraSinks?: NotificationSink[];
  /** The CLI entry point the PM agent runs as `kugetsu`. */
  kugetsuCli?: string;
  /**
   * Runs as soon as the lock is held, before recovery (which may wait for orphaned agents to
   * end): what runs beside the daemon is up as soon as the daemon is seen running.
   */
  onLocked?: () => void;
}

const ORPHAN_POLL_MS = 50;

export class Daemon {
  private readonly me: ProcessIdentity = currentProcess();
  private readonly runner: TaskRunner;
  private readonly notifier: Notifier;
  // In-process limiter, sized to the cap: a second line of defence behind the durable claim.
  private readonly devQueue: PQueue;
  private readonly pmQueue = new PQueue({ concurrency: 1 });
  private socket: NetServer | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private intakeTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private backoffTimer: NodeJS.Timeout | null = null;
  private backoffAt = Number.POSITIVE_INFINITY;
  private dispatching = false;
  // The dispatch in flight: shutdown waits for it, so no claim lands after the agents stop.
  private dispatchRun: Promise<void> = Promise.resolve();
  private dispatchAgain = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly ctx: HomeContext,
    private readonly options: DaemonOptions,
  ) {
    this.runner = homeRunner(
      ctx,
      options.log,
      () => void this.notifier.flush(),
      options.kugetsuCli ?? null,
    );
    this.devQueue = new PQueue({ concurrency: ctx.config.maxConcurrentAgents });
    this.notifier = new Notifier(
      ctx.store.events,
      [logSink(options.log), ...(options.extraSinks ?? [])],
      (sink, err) => options.log(`sink ${sink} failed: ${ctx.scrubber().scrub(errorMessage(err))}`),
    );
  }

  /** Takes the lock, recovers what a previous daemon left, and starts dispatching. */
  async start(): Promise<void> {
    const { store, paths } = this.ctx;
    const lock = await store.locks.acquireDaemon(this.me);
    if (!lock.ok)
      throw new OperationError(`a daemon already runs for ${paths.root} (pid ${lock.holder.pid})`);
    writeFileSync(paths.daemonPid, `${this.me.pid}\n`);
    this.log(
      `daemon ${this.me.pid} started (MAX_CONCURRENT_AGENTS=${this.ctx.config.maxConcurrentAgents})`,
    );
    this.options.onLocked?.();
    await this.recover();
    this.socket = await listenForWakeups(paths.daemonSocket, () => this.kick());
    this.sweepTimer = setInterval(() => void this.sweep(), this.ctx.config.sweepIntervalMs);
    await this.sweep();
    this.intakeTimer = setInterval(() => void this.pollForges(), this.ctx.config.intakeIntervalMs);
    void this.pollForges();
  }

  /**
   * Intake from watched repositories, and the state of open pull requests (for `list`). One
   * poll at a time: a slow forge must not pile polls up.
   */
  private async pollForges(): Promise<void> {
    if (this.polling || this.stopping !== null) return;
    this.polling = true;
    try {
      const scrub = (text: string): string => this.ctx.scrubber().scrub(text);
      for (const poll of await pollIntake(this.ctx)) {
        if (poll.error !== null) this.log(`intake ${poll.repo}: ${scrub(poll.error)}`);
        for (const task of poll.queued)
          this.log(`intake ${poll.repo}: queued task #${task.id} for ${task.issueRef ?? ''}`);
      }
      for (const session of await this.ctx.store.sessions.list({ all: true })) {
        if (session.pullRequest?.state === 'open')
          await refreshForgeState(this.ctx, session, 'lenient');
      }
    } catch (err) {
      this.log(`forge poll failed: ${this.ctx.scrubber().scrub(errorMessage(err))}`);
    } finally {
      this.polling = false;
    }
  }

  private log(line: string): void {
    this.options.log(line);
  }

  /**
   * Restart recovery: a running task whose owner is gone had its agent orphaned. Never start a
   * second copy while the first is alive: end the old process group, wait until it is gone,
   * then mark the session `left` and the task pending again (it resumes).
   */
  private async recover(): Promise<void> {
    const { store, config } = this.ctx;
    for (const { task, slot } of await store.claims.orphans()) {
      const agent = slot?.agent ?? null;
      if (agent !== null && this.orphanGroupAlive(agent)) {
        this.log(`task #${task.id}: ending orphaned agent process group ${agent.pid}`);
        signalGroup(agent.pid, 'SIGTERM');
        const deadline = Date.now() + config.killGraceMs;
        while (groupAlive(agent.pid)) {
          if (Date.now() > deadline) signalGroup(agent.pid, 'SIGKILL');
          await delay(ORPHAN_POLL_MS);
        }
      }
      const run = (await store.runs.list(task.id)).at(-1) ?? null;
      const openRun = run?.finishedAt === null ? run.id : null;
      // A stop asked for while no daemon ran is honoured, not resumed.
      const kind = task.cancelRequested ? 'cancelled' : 'interrupted';
      await store.tasks.finishAttempt(task.id, openRun, null, { kind, agentSessionId: null });
      this.log(
        kind === 'cancelled'
          ? `task #${task.id}: stopped as requested while no daemon ran`
          : `task #${task.id}: interrupted by a previous daemon's exit; queued to resume`,
      );
    }
  }

  /**
   * The group is ours only if its leader is the very process we recorded, or if the leader is
   * gone while the group lives on (a pid cannot be reused while it still names a group).
   */
  private orphanGroupAlive(agent: ProcessIdentity): boolean {
    if (isAlive(agent)) return true;
    if (!groupAlive(agent.pid)) return false;
    return !isAlive({ pid: agent.pid, start: '' });
  }

  /** Something may have changed: dispatch soon, coalescing bursts of wake-ups. */
  kick(): void {
    if (this.stopping !== null) return;
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    this.dispatchRun = new Promise((resolve) => setImmediate(resolve)).then(() =>
      this.dispatchLoop(),
    );
  }

  private async sweep(): Promise<void> {
    const cutoff = Date.now() - this.ctx.config.cleanupAgeMs;
    const { store } = this.ctx;
    const removed = await store.tasks.deleteFinished(cutoff).catch((err: unknown) => {
      this.log(`cleanup failed: ${errorMessage(err)}`);
      return 0;
    });
    if (removed > 0)
      this.log(`cleanup: removed ${removed} finished task(s) older than QUEUE_CLEANUP_AGE_DAYS`);
    // Staged files go with their tasks (and with a request that never became one).
    const staged = await store.tasks.attachmentPaths().catch(() => null);
    if (staged !== null) pruneStaging(this.ctx.paths.attachmentsDir, staged);
    this.kick();
  }

  private async dispatchLoop(): Promise<void> {
    try {
      do {
        this.dispatchAgain = false;
        await this.handleCancellations();
        await this.dispatchOnce();
      } while (this.dispatchAgain && this.stopping === null);
    } catch (err) {
      this.log(`dispatch failed: ${errorMessage(err)}`);
    } finally {
      this.dispatching = false;
    }
    void this.notifier.flush();
  }

  private async handleCancellations(): Promise<void> {
    for (const task of await this.ctx.store.tasks.list({ states: ['running'] })) {
      if (task.cancelRequested && this.runner.isRunning(task.id))
        this.runner.stop(task.id, 'stopped');
    }
  }

  private async dispatchOnce(): Promise<void> {
    const { store, config } = this.ctx;
    const { claimed, nextWakeAt, memoryBlocked } = await store.claims.claim({
      owner: this.me,
      maxAgents: config.maxConcurrentAgents,
      availableMemoryMb: availableMemoryMb(),
      minFreeMemoryMb: config.minFreeMemoryMb,
    });
    if (config.verbosity === 'verbose' && claimed.length > 0) {
      this.log(
        `dispatch: claimed ${claimed.map((t) => `#${t.id}`).join(', ')}; ${await store.claims.countedSlots()}/${config.maxConcurrentAgents} slots held`,
      );
    }
    // A server added since start brings a token variable the scrubber and agents must know.
    if (claimed.length > 0)
      await this.ctx
        .refresh()
        .catch((err: unknown) => this.log(`refresh failed: ${errorMessage(err)}`));
    for (const task of claimed) {
      const queue = task.kind === 'pm' ? this.pmQueue : this.devQueue;
      void queue.add(async () => {
        await this.runner.run(task);
        this.kick();
      });
    }
    this.scheduleBackoffWake(nextWakeAt);
    // Low memory is re-measured soon; nothing else would wake us when memory frees up.
    if (memoryBlocked) this.scheduleBackoffWake(Date.now() + 2_000);
  }

  private scheduleBackoffWake(at: number | null): void {
    if (at === null) return;
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = setTimeout(
      () => {
        this.backoffTimer = null;
        this.kick();
      },
      Math.max(0, at - Date.now()) + 5,
    );
  }

  /**
   * Graceful shutdown, idempotent: stop taking work, stop every agent (their sessions become
   * `left` and their tasks resume on the next start), then release the lock.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log('daemon stopping: interrupting running agents');
      if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
      if (this.intakeTimer !== null) clearInterval(this.intakeTimer);
      if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
      await new Promise<void>((resolve) =>
        this.socket === null ? resolve() : this.socket.close(() => resolve()),
      );
      await this.dispatchRun;
      this.runner.stopAll('shutdown');
      await Promise.all([this.devQueue.onIdle(), this.pmQueue.onIdle()]);
      await this.notifier.flush();
      await this.ctx.store.locks.releaseDaemon(this.me);
      rmSync(this.ctx.paths.daemonPid, { force: true });
      this.log('daemon stopped');
    })();
    return this.stopping;
  }
}
