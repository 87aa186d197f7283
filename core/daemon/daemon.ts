/**
 * The queue daemon: one per home. It claims tasks in the store (the concurrency invariant
 * lives there), runs them through the TaskRunner, and pushes events to sinks. Dispatch is
 * event-driven: a wake-up on the socket, an attempt ending, or a backoff timer expiring;
 * the interval sweep is only a fallback.
 */
import type { Server as NetServer } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import PQueue from 'p-queue';
import { pruneStaging } from '../attachments.js';
import { OperationError, errorMessage } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import { availableMemoryMb } from '../memory.js';
import { logSink } from '../notifications/log-sink.js';
import type { NotificationSink } from '../notifications/notification-sink.js';
import { Notifier } from '../notifications/notifier.js';
import { currentProcess, type ProcessIdentity } from '../process-info.js';
import { pollIntake } from '../operations/intake.js';
import { refreshForgeState } from '../operations/sessions.js';
import { homeRunner } from '../runner/home-runner.js';
import type { TaskRunner } from '../runner/task-runner.js';
import { listenForWakeups } from '../wake-channel.js';
import { FleetWorker, persistThroughOutages } from './fleet-worker.js';
import { recoverOrphans } from './orphan-recovery.js';

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
  // On a fleet: the fencing token of each task this worker runs, its heartbeat, its wake-ups.
  private readonly fences = new Map<number, number>();
  private fleetWorker: FleetWorker | null = null;
  private fleetWake: { close(): Promise<void> } | null = null;

  constructor(
    private readonly ctx: HomeContext,
    private readonly options: DaemonOptions,
  ) {
    this.runner = homeRunner(
      ctx,
      options.log,
      () => void this.notifier.flush(),
      options.kugetsuCli ?? null,
      (taskId) => this.fences.get(taskId),
      ctx.fleet === null
        ? undefined
        : (write) => persistThroughOutages(write, () => this.stopping !== null),
    );
    this.devQueue = new PQueue({ concurrency: ctx.config.maxConcurrentAgents });
    this.notifier = new Notifier(
      ctx.store.events,
      [logSink(options.log, ctx.fleet?.worker ?? null), ...(options.extraSinks ?? [])],
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
    const { fleet } = this.ctx;
    const as = fleet === null ? '' : `worker ${fleet.worker}, `;
    this.log(
      `daemon ${this.me.pid} started (${as}MAX_CONCURRENT_AGENTS=${this.ctx.config.maxConcurrentAgents})`,
    );
    if (fleet !== null) {
      this.fleetWorker = new FleetWorker(this.ctx, fleet, {
        log: (line) => this.log(line),
        fences: () => this.fences,
        lost: (ids) => ids.forEach((id) => this.runner.stop(id, 'stopped')),
        changed: () => this.kick(),
      });
      await this.fleetWorker.start();
    }
    this.options.onLocked?.();
    await recoverOrphans(this.ctx, (line) => this.log(line));
    this.socket = await listenForWakeups(paths.daemonSocket, () => this.kick());
    if (fleet !== null) this.fleetWake = await fleet.onWake(() => this.kick());
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
    const { store, config, fleet } = this.ctx;
    const { claimed, nextWakeAt, memoryBlocked } = await store.claims.claim({
      owner: this.me,
      maxAgents: config.maxConcurrentAgents,
      availableMemoryMb: availableMemoryMb(),
      minFreeMemoryMb: config.minFreeMemoryMb,
      ...(fleet === null
        ? {}
        : {
            worker: fleet.worker,
            leaseMs: fleet.leaseMs,
            ...(fleet.globalMaxAgents === undefined
              ? {}
              : { globalMaxAgents: fleet.globalMaxAgents }),
          }),
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
      this.fences.set(task.id, task.fence);
      void queue.add(async () => {
        try {
          await this.runner.run(task);
        } catch (err) {
          // A claim recovered elsewhere meanwhile: its end is another worker's to record.
          this.log(`task #${task.id}: ${errorMessage(err)}`);
        } finally {
          this.fences.delete(task.id);
          this.kick();
        }
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
      await this.fleetWake?.close();
      await this.fleetWorker?.stop();
      await this.ctx.store.locks.releaseDaemon(this.me);
      rmSync(this.ctx.paths.daemonPid, { force: true });
      this.log('daemon stopped');
    })();
    return this.stopping;
  }
}
