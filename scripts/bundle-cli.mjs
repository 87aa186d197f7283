/**
 * Part of `npm run build`, after tsc: the shipped bin as CommonJS (why, in src/cli/bin.ts).
 * dist/src/cli/bin.js becomes kugetsu.cjs, still a few lines: main.js and list.cjs stay outside
 * it. dist/src/cli/list-main.js becomes list.cjs, with every module of ours it loads bundled
 * and packages left to node_modules. Both sit beside main.js, so `import.meta.url` is set to
 * the bundle's own URL: the bundled modules resolve from it only paths that are the same from
 * dist/src/cli/ (./main.js, ../../../package.json) or independent of it (createRequire of a
 * package or a builtin).
 */
import { build } from 'esbuild';
import { URL, fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli/', import.meta.url));

const { warnings } = await build({
  entryPoints: [
    { in: `${cli}bin.js`, out: 'kugetsu' },
    { in: `${cli}list-main.js`, out: 'list' },
  ],
  outdir: cli,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleUrl' },
  plugins: [
    {
      name: 'bin-stays-small',
      setup(on) {
        on.onResolve({ filter: /^\.\/main\.js$/ }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
  logLevel: 'warning',
});
// A warning here (an import.meta the define missed, a require of an ES module) is a broken bin.
if (warnings.length > 0) throw new Error(`bundling the CLI: ${warnings.length} warning(s), above`);
