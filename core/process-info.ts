import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * A process named by pid *and* start time, so a pid the kernel has reused for another
 * program is never mistaken for the process that claimed a slot.
 */
export interface ProcessIdentity {
  pid: number;
  /** Kernel start time (clock ticks since boot) from /proc; '' where /proc is unavailable. */
  start: string;
  /**
   * The PID namespace the pid is numbered in (`pid:[4026531836]`). An agent's sandbox (codex
   * runs its commands in one) numbers processes differently: there, the daemon's pid names
   * nothing or something else, and a kugetsu run inside must not conclude the daemon is dead.
   */
  ns?: string;
}

interface ProcStat {
  state: string;
  pgrp: number;
  start: string;
}

function readProcStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19];
    if (state === undefined || start === undefined) return null;
    return { state, pgrp: Number(fields[2]), start };
  } catch {
    return null;
  }
}

// Both are read on first use, not at import: most commands load this module and never ask.
let procReadable: boolean | undefined;
const hasProc = (): boolean => (procReadable ??= readProcStat(process.pid) !== null);

function readPidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

let namespace: string | undefined;
const ownNamespace = (): string => (namespace ??= readPidNamespace());

export function processStartTime(pid: number): string {
  return readProcStat(pid)?.start ?? '';
}

export function currentProcess(): ProcessIdentity {
  const me: ProcessIdentity = { pid: process.pid, start: processStartTime(process.pid) };
  const ns = ownNamespace();
  if (ns !== '') me.ns = ns;
  return me;
}

export function identify(pid: number): ProcessIdentity {
  return { pid, start: processStartTime(pid) };
}

/**
 * True while the very process identified (not merely its pid) is alive and not a zombie. A
 * process of another PID namespace cannot be looked up from here: it counts as alive, so it is
 * never taken over, reclaimed or signalled.
 */
export function isAlive(id: ProcessIdentity): boolean {
  if (!Number.isInteger(id.pid) || id.pid <= 0) return false;
  if (!inThisNamespace(id)) return true;
  if (hasProc()) {
    const stat = readProcStat(id.pid);
    if (stat === null || isZombie(stat)) return false;
    return id.start === '' || stat.start === id.start;
  }
  try {
    process.kill(id.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `id`'s pid means the same process here: it was numbered in this PID namespace. */
export function inThisNamespace(id: ProcessIdentity): boolean {
  return id.ns === undefined || id.ns === ownNamespace();
}

export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.start === b.start && (a.ns ?? '') === (b.ns ?? '');
}

const isZombie = (stat: ProcStat): boolean => stat.state === 'Z' || stat.state === 'X';

/**
 * True while any process of the group led by `pgid` is alive. Zombies do not count: a
 * grandchild orphaned into PID 1 may stay a zombie for a while where PID 1 reaps lazily
 * (containers, microVMs), and `kill(-pgid, 0)` would call that group alive.
 */
export function groupAlive(pgid: number): boolean {
  if (hasProc()) {
    for (const entry of readdirSync('/proc')) {
      if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
      const stat = readProcStat(Number(entry));
      if (stat !== null && stat.pgrp === pgid && !isZombie(stat)) return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends a signal to a whole process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
