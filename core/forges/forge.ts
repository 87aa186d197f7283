/** The seam to a code forge (DESIGN.md §3). Issue APIs and pull requests plug in here. */
import type { Server } from '../domain.js';
import type { IssueRef } from '../issue-ref.js';
import type { WorkspaceTarget, Workspaces } from '../workspaces/workspaces.js';

export interface IssueContext {
  title: string;
  body: string;
  comments: string[];
}

export interface HandOffResult {
  /** One line for the completion event: what happened to the branch. */
  summary: string;
  pullRequestUrl: string | null;
}

export interface Forge {
  /** The issue's own text for the prompt; null where the server has no issue API. */
  issueContext(ref: IssueRef): Promise<IssueContext | null>;
  /** After a successful run whose branch has commits the base does not. */
  handOff(target: WorkspaceTarget, workspaces: Workspaces): Promise<HandOffResult>;
}

/**
 * A plain git server: no issue API; the branch is pushed back to the remote so the work is
 * in the user's repository. Forge kinds (gitea, github, gitlab) use this until their API
 * clients land, minus the push, which needs their token handling.
 */
export function forgeFor(server: Server): Forge {
  return {
    issueContext: () => Promise.resolve(null),
    async handOff(target, workspaces) {
      if (server.kind !== 'git') {
        return {
          summary: `branch ${target.branch} kept locally (${server.kind} API support is not yet available)`,
          pullRequestUrl: null,
        };
      }
      await workspaces.pushBranch(target);
      return { summary: `pushed ${target.branch}`, pullRequestUrl: null };
    },
  };
}
