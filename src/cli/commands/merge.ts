import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../../core/errors.js';
import { mergeCandidate, mergeSession } from '../../../core/operations/merge.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

/** `kugetsu merge REF [-y]`: the session's pull request, through the forge's merge API. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('merge', argv, {
    ...JSON_FLAG,
    yes: { type: 'boolean', short: 'y' },
  });
  expectPositionals('merge', positionals, 1, 1, USAGE['merge'] ?? '');
  return withHome(io, async (ctx, io) => {
    const ref = positionals[0] ?? '';
    if (values.yes !== true) {
      const { session, pullRequest } = await mergeCandidate(ctx, ref);
      if (process.stdin.isTTY !== true) {
        throw new UsageError(`merge ${session.issueRef}: add -y to merge without asking`);
      }
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await prompt
        .question(`Merge pull request #${pullRequest.number} (${pullRequest.url})? [y/N] `)
        .finally(() => prompt.close());
      if (!/^y(es)?$/i.test(answer.trim())) {
        io.err('not merged');
        return 1;
      }
    }
    const outcome = await mergeSession(ctx, ref);
    const { pullRequest } = outcome;
    if (values.json === true) io.json(outcome);
    else if (outcome.already)
      io.out(`pull request #${pullRequest.number} of ${outcome.issueRef} was already merged`);
    else if (pullRequest.state === 'merged')
      io.out(
        `merged pull request #${pullRequest.number} of ${outcome.issueRef} (${pullRequest.url})`,
      );
    else
      io.out(
        `merge of pull request #${pullRequest.number} requested; the forge shows it ${pullRequest.state}`,
      );
    return 0;
  });
}
