#!/usr/bin/env node
/**
 * The shipped `kugetsu` executable, built by scripts/bundle-cli.mjs into dist/src/cli/kugetsu.cjs
 * (package.json's `bin`). Node starts a CommonJS entry without its ES module loader, and that
 * loader, with the module-by-module reads it brings, was most of what `kugetsu list --json`
 * cost above bare `node` (docs/benchmarks.md). So `list` is required from list.cjs, one
 * CommonJS bundle of everything it runs (list-main.ts); every other command line goes to
 * main.js, the ES module CLI, untouched, and pays for this file only: a few lines, because
 * list.cjs is not read unless `list` runs.
 */
import { createRequire } from 'node:module';

if (process.argv[2] === 'list') createRequire(import.meta.url)('./list.cjs');
else void import('./main.js');
