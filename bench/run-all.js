/**
 * `npm run bench`: runs every benchmark in sequence, each in its own child process (so one's
 * daemon, module cache or heap never colours the next), and prints their output as it comes.
 * Exits non-zero only if a benchmark crashed; a missed target is reported, not an error.
 */
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCHMARKS = [
  'cli-start.mjs',
  'dispatch-latency.mjs',
  'list-sessions.mjs',
  'daemon-rss.mjs',
  'task-overhead.mjs',
  'agents.mjs',
  'queue-scale.mjs',
];

if (!existsSync(join(HERE, '..', 'dist', 'src', 'cli', 'main.js'))) {
  console.error('bench: dist/ is missing: run `npm run build` first');
  process.exit(1);
}

const gitVersion = spawnSync('git', ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log('kugetsu benchmarks');
console.log(
  `machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), ` +
    `${Math.round(totalmem() / 1024 ** 3)} GB RAM, ${type()} ${release()}`,
);
console.log(`node ${process.version}, ${gitVersion}`);

const started = Date.now();
const failed = [];
for (const file of BENCHMARKS) {
  const t0 = Date.now();
  const result = spawnSync(process.execPath, [join(HERE, file)], {
    stdio: 'inherit',
    // queue-scale drains 10,000 tasks: minutes on 2 busy cores.
    timeout: 30 * 60_000,
  });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  if (result.status !== 0) {
    failed.push(file);
    console.log(`!! ${file} failed (exit ${result.status ?? result.signal}) after ${seconds} s`);
  } else {
    console.log(`(${file}: ${seconds} s)`);
  }
}
console.log(`\nall benchmarks: ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (failed.length > 0) {
  console.log(`failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
