/** Intake's repositories and their poll cursors, as rows and as the store hands them out. */

export interface IntakeRepoRow {
  server_name: string;
  repo_path: string;
  label: string;
  mention: string;
  issues_etag: string | null;
  issues_last_modified: string | null;
  comments_etag: string | null;
  comments_last_modified: string | null;
  comments_since: number;
  created_at: number;
}

/** Where a repository's last intake poll stopped: the forge's validators and the comment cursor. */
export interface IntakeCursor {
  issuesEtag: string | null;
  issuesLastModified: string | null;
  commentsEtag: string | null;
  commentsLastModified: string | null;
  /** Epoch ms: comments created after this have not been looked at. */
  commentsSince: number;
}

export interface IntakeRepo extends IntakeCursor {
  serverName: string;
  /** `owner/repo` */
  repoPath: string;
  /** Open issues carrying it are queued. */
  label: string;
  /** A new comment containing it continues the issue's session, e.g. `@kugetsu`. */
  mention: string;
  createdAt: number;
}

export type NewIntakeRepo = Pick<IntakeRepo, 'serverName' | 'repoPath' | 'label' | 'mention'>;

export function toIntakeRepo(row: IntakeRepoRow): IntakeRepo {
  return {
    serverName: row.server_name,
    repoPath: row.repo_path,
    label: row.label,
    mention: row.mention,
    issuesEtag: row.issues_etag,
    issuesLastModified: row.issues_last_modified,
    commentsEtag: row.comments_etag,
    commentsLastModified: row.comments_last_modified,
    commentsSince: row.comments_since,
    createdAt: row.created_at,
  };
}
