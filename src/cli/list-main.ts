/**
 * `kugetsu list` as a program of its own: scripts/bundle-cli.mjs bundles it into
 * dist/src/cli/list.cjs, which the bin requires for `list` (why, in bin.ts). Every module it
 * loads is in that bundle, so each class exists once and the error mapping's `instanceof`
 * checks hold; main.js never loads it.
 */
import { run } from './commands/list.js';
import { dispatch } from './dispatch.js';
import { processIo } from './io.js';

void dispatch(process.argv.slice(2), { list: () => Promise.resolve({ run }) }, processIo).then(
  (code) => {
    process.exitCode = code;
  },
);
