import { addIntake, pollIntake, removeIntake } from '../../../core/operations/intake.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { withHome } from '../home.js';
import { table, type Io } from '../io.js';
import { USAGE } from '../usage.js';

const SUBCOMMANDS = ['list', 'add', 'remove', 'poll'] as const;

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('intake', argv, {
    ...JSON_FLAG,
    label: { type: 'string' },
    mention: { type: 'string' },
  });
  const sub = subcommand('intake', positionals[0], SUBCOMMANDS, 'list');
  const args = positionals.slice(1);
  const usage = USAGE['intake'] ?? '';
  const json = values.json === true;
  return withHome(io, async (ctx, io) => {
    switch (sub) {
      case 'list': {
        expectPositionals('intake list', args, 0, 0, usage);
        const repos = await ctx.store.intake.list();
        if (json) io.json({ repos });
        else
          io.out(
            repos.length === 0
              ? 'no watched repositories (`kugetsu intake add OWNER/REPO --label kugetsu`)'
              : table([
                  ['SERVER', 'REPO', 'LABEL', 'MENTION'],
                  ...repos.map((r) => [r.serverName, r.repoPath, r.label, r.mention]),
                ]),
          );
        return 0;
      }
      case 'add': {
        expectPositionals('intake add', args, 1, 1, usage);
        const repo = await addIntake(ctx, args[0] ?? '', {
          label: values.label,
          mention: values.mention,
        });
        if (json) io.json({ repo });
        else
          io.out(
            `watching ${repo.repoPath} on ${repo.serverName}: open issues labelled ${repo.label} are queued, comments mentioning ${repo.mention} continue their session`,
          );
        return 0;
      }
      case 'remove': {
        expectPositionals('intake remove', args, 1, 1, usage);
        await removeIntake(ctx, args[0] ?? '');
        if (json) io.json({ removed: args[0] });
        else io.out(`stopped watching ${args[0] ?? ''}`);
        return 0;
      }
      case 'poll': {
        expectPositionals('intake poll', args, 0, 0, usage);
        const polls = await pollIntake(ctx);
        if (json) io.json({ polls });
        else
          io.out(
            polls.length === 0
              ? 'no watched repositories'
              : polls
                  .map((p) =>
                    p.error !== null
                      ? `${p.repo}: ${p.error}`
                      : `${p.repo}: ${p.queued.length === 0 ? 'nothing new' : p.queued.map((t) => `queued task #${t.id} for ${t.issueRef ?? ''}`).join(', ')}`,
                  )
                  .join('\n'),
          );
        return polls.some((p) => p.error !== null) ? 1 : 0;
      }
    }
  });
}
