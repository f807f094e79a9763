/**
 * The JSON GitHub returns, built from the in-memory model. Field names and nesting follow
 * GitHub's REST reference (https://docs.github.com/rest) and the webhook payloads in
 * `@octokit/webhooks-examples`; URLs point back at this fake, so a client that follows a
 * `url` field stays on it.
 */
import type {
  Account,
  CheckRunRecord,
  CommentRecord,
  FakeState,
  Installation,
  IssueRecord,
  LabelRecord,
  PullRecord,
  RepoRecord,
  ReviewRecord,
  Team,
} from './fake-state.js';
import { branchSha, pullBaseSha, pullCommits, pullFiles, pullMergeable } from './pull-diff.js';
import type { PullFile } from './pull-diff.js';

export interface Urls {
  /** REST base, e.g. `http://127.0.0.1:PORT/api/v3`. */
  readonly api: string;
  /** Web base, e.g. `http://127.0.0.1:PORT` (GitHub Enterprise serves both on one host). */
  readonly web: string;
}

export type Json = Record<string, unknown>;

function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`${kind}:${id}`).toString('base64');
}

export const APP_PERMISSIONS = {
  checks: 'write',
  contents: 'write',
  issues: 'write',
  members: 'read',
  metadata: 'read',
  pull_requests: 'write',
} as const;

export function userJson(urls: Urls, account: Account): Json {
  const url = `${urls.api}/users/${account.login}`;
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId(account.type, account.id),
    avatar_url: `${urls.web}/avatars/u/${account.id}`,
    gravatar_id: '',
    url,
    html_url: `${urls.web}/${account.type === 'Bot' ? `apps/${account.login.replace('[bot]', '')}` : account.login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: account.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

export function userOrNull(urls: Urls, account: Account | null): Json | null {
  return account === null ? null : userJson(urls, account);
}

/** `GET /user`, `GET /users/{username}`: the public profile on top of the simple user. */
export function profileJson(urls: Urls, account: Account): Json {
  return {
    ...userJson(urls, account),
    name: account.name,
    company: null,
    blog: '',
    location: null,
    email: account.type === 'User' ? account.email : null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
  };
}

export function orgJson(urls: Urls, org: Account): Json {
  const url = `${urls.api}/orgs/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: nodeId('Organization', org.id),
    url,
    repos_url: `${url}/repos`,
    events_url: `${url}/events`,
    hooks_url: `${url}/hooks`,
    issues_url: `${url}/issues`,
    members_url: `${url}/members{/member}`,
    public_members_url: `${url}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/u/${org.id}`,
    description: null,
  };
}

export function repoJson(urls: Urls, repo: RepoRecord, openIssues = 0): Json {
  const url = `${urls.api}/repos/${repo.fullName}`;
  const html = `${urls.web}/${repo.fullName}`;
  return {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.private,
    owner: userJson(urls, repo.owner),
    html_url: html,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    hooks_url: `${url}/hooks`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    git_url: `${html.replace(/^https?:/, 'git:')}.git`,
    ssh_url: `git@${new URL(urls.web).host}:${repo.fullName}.git`,
    svn_url: html,
    mirror_url: null,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues,
    open_issues: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    pushed_at: repo.pushedAt,
    created_at: repo.createdAt,
    updated_at: repo.pushedAt,
    allow_forking: false,
    web_commit_signoff_required: false,
    license: null,
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_rebase_merge: false,
    allow_auto_merge: false,
    delete_branch_on_merge: false,
  };
}

/** Full `GET /repos/{owner}/{repo}`: adds what GitHub adds for the caller. */
export function fullRepoJson(urls: Urls, repo: RepoRecord): Json {
  const openIssues = [...repo.issues.values()].filter((issue) => issue.state === 'open').length;
  const owner =
    repo.owner.type === 'Organization' ? { organization: userJson(urls, repo.owner) } : {};
  return {
    ...repoJson(urls, repo, openIssues),
    ...owner,
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    network_count: 0,
    subscribers_count: 0,
  };
}

/** The `repository` of a push payload: owner carries name/email, dates are epoch seconds. */
export function pushRepoJson(urls: Urls, repo: RepoRecord): Json {
  const base = repoJson(urls, repo);
  return {
    ...base,
    owner: { ...userJson(urls, repo.owner), name: repo.owner.login, email: null },
    created_at: Math.floor(Date.parse(repo.createdAt) / 1000),
    pushed_at: Math.floor(Date.parse(repo.pushedAt) / 1000),
    stargazers: 0,
    master_branch: repo.defaultBranch,
    ...(repo.owner.type === 'Organization' ? { organization: repo.owner.login } : {}),
  };
}

function signatureJson(signature: { name: string; email: string; date: string }): Json {
  return { name: signature.name, email: signature.email, date: signature.date };
}

/** `GET /repos/{o}/{r}/git/commits/{sha}`. */
export function gitCommitJson(urls: Urls, repo: RepoRecord, sha: string): Json {
  const commit = repo.git.commit(sha)!;
  const url = `${urls.api}/repos/${repo.fullName}`;
  return {
    sha,
    node_id: nodeId('Commit', sha),
    url: `${url}/git/commits/${sha}`,
    html_url: `${urls.web}/${repo.fullName}/commit/${sha}`,
    author: signatureJson(commit.author),
    committer: signatureJson(commit.committer),
    tree: { sha: commit.tree, url: `${url}/git/trees/${commit.tree}` },
    message: commit.message,
    parents: commit.parents.map((parent) => ({
      sha: parent,
      url: `${url}/git/commits/${parent}`,
      html_url: `${urls.web}/${repo.fullName}/commit/${parent}`,
    })),
    verification: {
      verified: false,
      reason: 'unsigned',
      signature: null,
      payload: null,
      verified_at: null,
    },
  };
}

/** `GET /repos/{o}/{r}/commits` items and `GET …/commits/{ref}` (with `files` and `stats`). */
export function commitJson(
  urls: Urls,
  repo: RepoRecord,
  state: FakeState,
  sha: string,
  files?: readonly PullFile[],
): Json {
  const commit = repo.git.commit(sha)!;
  const url = `${urls.api}/repos/${repo.fullName}`;
  const login = (l: string | null): Json | null => {
    const account = l === null ? undefined : state.findAccount(l);
    return account === undefined ? null : userJson(urls, account);
  };
  const base: Json = {
    sha,
    node_id: nodeId('Commit', sha),
    commit: {
      author: signatureJson(commit.author),
      committer: signatureJson(commit.committer),
      message: commit.message,
      tree: { sha: commit.tree, url: `${url}/git/trees/${commit.tree}` },
      url: `${url}/git/commits/${sha}`,
      comment_count: 0,
      verification: {
        verified: false,
        reason: 'unsigned',
        signature: null,
        payload: null,
        verified_at: null,
      },
    },
    url: `${url}/commits/${sha}`,
    html_url: `${urls.web}/${repo.fullName}/commit/${sha}`,
    comments_url: `${url}/commits/${sha}/comments`,
    author: login(commit.author.login),
    committer: login(commit.committer.login),
    parents: commit.parents.map((parent) => ({
      sha: parent,
      url: `${url}/commits/${parent}`,
      html_url: `${urls.web}/${repo.fullName}/commit/${parent}`,
    })),
  };
  if (files === undefined) return base;
  const additions = files.reduce((n, f) => n + f.additions, 0);
  const deletions = files.reduce((n, f) => n + f.deletions, 0);
  return {
    ...base,
    stats: { total: additions + deletions, additions, deletions },
    files: files.map((file) => diffEntryJson(urls, repo, sha, file)),
  };
}

export function diffEntryJson(urls: Urls, repo: RepoRecord, ref: string, file: PullFile): Json {
  const encoded = file.path.split('/').map(encodeURIComponent).join('/');
  return {
    sha: file.newSha ?? file.oldSha,
    filename: file.path,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${urls.web}/${repo.fullName}/blob/${ref}/${encoded}`,
    raw_url: `${urls.web}/${repo.fullName}/raw/${ref}/${encoded}`,
    contents_url: `${urls.api}/repos/${repo.fullName}/contents/${encoded}?ref=${ref}`,
    patch: file.patch,
  };
}

function authorAssociation(state: FakeState, repo: RepoRecord, account: Account): string {
  if (account.id === repo.owner.id) return 'OWNER';
  if (repo.owner.type === 'Organization' && state.isOrgMember(repo.owner.login, account.login)) {
    return 'MEMBER';
  }
  return account.type === 'Bot' ? 'NONE' : 'CONTRIBUTOR';
}

export function labelJson(urls: Urls, repo: RepoRecord, label: LabelRecord): Json {
  return {
    id: label.id,
    node_id: nodeId('Label', label.id),
    url: `${urls.api}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  };
}

function issueLabels(urls: Urls, repo: RepoRecord, issue: IssueRecord): Json[] {
  return issue.labels.flatMap((name) => {
    const label = repo.labels.get(name.toLowerCase());
    return label === undefined ? [] : [labelJson(urls, repo, label)];
  });
}

export function teamJson(urls: Urls, team: Team): Json {
  const url = `${urls.api}/organizations/${team.org.id}/team/${team.id}`;
  return {
    id: team.id,
    node_id: nodeId('Team', team.id),
    url,
    html_url: `${urls.web}/orgs/${team.org.login}/teams/${team.slug}`,
    name: team.name,
    slug: team.slug,
    description: null,
    privacy: 'closed',
    notification_setting: 'notifications_enabled',
    permission: 'pull',
    members_url: `${url}/members{/member}`,
    repositories_url: `${url}/repos`,
    parent: null,
  };
}

function pullUrls(urls: Urls, repo: RepoRecord, number: number, headSha: string): Json {
  const api = `${urls.api}/repos/${repo.fullName}`;
  return {
    url: `${api}/pulls/${number}`,
    html_url: `${urls.web}/${repo.fullName}/pull/${number}`,
    diff_url: `${urls.web}/${repo.fullName}/pull/${number}.diff`,
    patch_url: `${urls.web}/${repo.fullName}/pull/${number}.patch`,
    issue_url: `${api}/issues/${number}`,
    commits_url: `${api}/pulls/${number}/commits`,
    review_comments_url: `${api}/pulls/${number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${number}/comments`,
    statuses_url: `${api}/statuses/${headSha}`,
  };
}

function pullLinks(urls: Urls, repo: RepoRecord, number: number, headSha: string): Json {
  const u = pullUrls(urls, repo, number, headSha);
  return {
    self: { href: u['url'] },
    html: { href: u['html_url'] },
    issue: { href: u['issue_url'] },
    comments: { href: u['comments_url'] },
    review_comments: { href: u['review_comments_url'] },
    review_comment: { href: u['review_comment_url'] },
    commits: { href: u['commits_url'] },
    statuses: { href: u['statuses_url'] },
  };
}

/**
 * A pull request. `full` adds what only `GET /pulls/{n}` and webhooks carry (merged,
 * mergeable, counts); list endpoints return the shorter form, as GitHub does.
 */
export function pullJson(
  urls: Urls,
  repo: RepoRecord,
  state: FakeState,
  pull: PullRecord,
  full: boolean,
): Json {
  const issue = pull.issue;
  const baseSha = pullBaseSha(repo, pull);
  const side = (ref: string, sha: string): Json => ({
    label: `${repo.owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(urls, repo.owner),
    repo: repoJson(urls, repo),
  });
  const summary: Json = {
    ...pullUrls(urls, repo, issue.number, pull.headSha),
    id: pull.id,
    node_id: nodeId('PullRequest', pull.id),
    number: issue.number,
    state: issue.state,
    locked: false,
    title: issue.title,
    user: userJson(urls, issue.user),
    body: issue.body,
    labels: issueLabels(urls, repo, issue),
    milestone: null,
    active_lock_reason: null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: pull.requestedReviewers.map((account) => userJson(urls, account)),
    requested_teams: pull.requestedTeams.map((team) => teamJson(urls, team)),
    head: side(pull.headRef, pull.headSha),
    base: side(pull.baseRef, baseSha),
    _links: pullLinks(urls, repo, issue.number, pull.headSha),
    author_association: authorAssociation(state, repo, issue.user),
    auto_merge: null,
    draft: pull.draft,
  };
  if (!full) return summary;
  const files = pullFiles(repo, pull);
  const mergeable = pullMergeable(repo, pull);
  return {
    ...summary,
    merged: pull.merged,
    mergeable,
    rebaseable: mergeable,
    mergeable_state:
      pull.merged || issue.state === 'closed'
        ? 'unknown'
        : mergeable === null
          ? 'unknown'
          : mergeable
            ? 'clean'
            : 'dirty',
    merged_by: userOrNull(urls, pull.mergedBy),
    comments: [...repo.comments.values()].filter((c) => c.issueNumber === issue.number).length,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: pullCommits(repo, pull).length,
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
    changed_files: files.length,
  };
}

/** The short PR form inside check runs and check suites. */
export function checkPullJson(urls: Urls, repo: RepoRecord, pull: PullRecord): Json {
  const side = (ref: string, sha: string): Json => ({
    ref,
    sha,
    repo: { id: repo.id, url: `${urls.api}/repos/${repo.fullName}`, name: repo.name },
  });
  return {
    url: `${urls.api}/repos/${repo.fullName}/pulls/${pull.issue.number}`,
    id: pull.id,
    number: pull.issue.number,
    head: side(pull.headRef, pull.headSha),
    base: side(pull.baseRef, pullBaseSha(repo, pull)),
  };
}

export function issueJson(
  urls: Urls,
  repo: RepoRecord,
  state: FakeState,
  issue: IssueRecord,
): Json {
  const api = `${urls.api}/repos/${repo.fullName}`;
  const pull = repo.pulls.get(issue.number);
  return {
    id: issue.id,
    node_id: nodeId('Issue', issue.id),
    url: `${api}/issues/${issue.number}`,
    repository_url: api,
    labels_url: `${api}/issues/${issue.number}/labels{/name}`,
    comments_url: `${api}/issues/${issue.number}/comments`,
    events_url: `${api}/issues/${issue.number}/events`,
    html_url: `${urls.web}/${repo.fullName}/${pull === undefined ? 'issues' : 'pull'}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.state === 'closed' ? 'completed' : null,
    title: issue.title,
    body: issue.body,
    user: userJson(urls, issue.user),
    labels: issueLabels(urls, repo, issue),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: [...repo.comments.values()].filter((c) => c.issueNumber === issue.number).length,
    ...(pull === undefined
      ? {}
      : {
          pull_request: {
            url: `${api}/pulls/${issue.number}`,
            html_url: `${urls.web}/${repo.fullName}/pull/${issue.number}`,
            diff_url: `${urls.web}/${repo.fullName}/pull/${issue.number}.diff`,
            patch_url: `${urls.web}/${repo.fullName}/pull/${issue.number}.patch`,
            merged_at: pull.mergedAt,
          },
        }),
    closed_at: issue.closedAt,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_by: null,
    author_association: authorAssociation(state, repo, issue.user),
  };
}

/**
 * A review. REST returns the state upper-case (`APPROVED`); webhook payloads carry it
 * lower-case (`approved`), which is a real difference consumers must handle.
 */
export function reviewJson(
  urls: Urls,
  repo: RepoRecord,
  state: FakeState,
  pull: PullRecord,
  review: ReviewRecord,
  forWebhook: boolean,
): Json {
  const html = `${urls.web}/${repo.fullName}/pull/${pull.issue.number}#pullrequestreview-${review.id}`;
  return {
    id: review.id,
    node_id: nodeId('PullRequestReview', review.id),
    user: userJson(urls, review.user),
    body: forWebhook && review.body === '' ? null : review.body,
    state: forWebhook ? review.state.toLowerCase() : review.state,
    html_url: html,
    pull_request_url: `${urls.api}/repos/${repo.fullName}/pulls/${pull.issue.number}`,
    author_association: authorAssociation(state, repo, review.user),
    _links: {
      html: { href: html },
      pull_request: { href: `${urls.api}/repos/${repo.fullName}/pulls/${pull.issue.number}` },
    },
    ...(review.submittedAt === null ? {} : { submitted_at: review.submittedAt }),
    commit_id: review.commitId,
  };
}

export function appJson(urls: Urls, state: FakeState, owner: Account | undefined): Json {
  return {
    id: state.appId,
    slug: state.appSlug,
    node_id: nodeId('Integration', state.appId),
    client_id: `Iv1.${state.appId.toString(16).padStart(16, '0')}`,
    owner: owner === undefined ? null : userJson(urls, owner),
    name: state.appSlug,
    description: 'Fake GitHub App for tests',
    external_url: urls.web,
    html_url: `${urls.web}/apps/${state.appSlug}`,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
    permissions: APP_PERMISSIONS,
    events: ['check_run', 'pull_request', 'pull_request_review', 'push'],
  };
}

export function checkRunJson(
  urls: Urls,
  repo: RepoRecord,
  state: FakeState,
  run: CheckRunRecord,
): Json {
  const api = `${urls.api}/repos/${repo.fullName}`;
  const openPulls = [...repo.pulls.values()].filter(
    (pull) => pull.issue.state === 'open' && pull.headSha === run.headSha,
  );
  const headBranch = openPulls[0]?.headRef ?? null;
  return {
    id: run.id,
    head_sha: run.headSha,
    node_id: nodeId('CheckRun', run.id),
    external_id: run.externalId,
    url: `${api}/check-runs/${run.id}`,
    html_url: `${urls.web}/${repo.fullName}/runs/${run.id}`,
    details_url: run.detailsUrl ?? `${urls.web}/${repo.fullName}/runs/${run.id}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.annotations.length,
      annotations_url: `${api}/check-runs/${run.id}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.checkSuiteId, head_branch: headBranch, head_sha: run.headSha },
    app: appJson(urls, state, repo.owner),
    pull_requests: openPulls.map((pull) => checkPullJson(urls, repo, pull)),
  };
}

export function commentJson(
  urls: Urls,
  repo: RepoRecord,
  state: FakeState,
  comment: CommentRecord,
): Json {
  const api = `${urls.api}/repos/${repo.fullName}`;
  const isPull = repo.pulls.has(comment.issueNumber);
  return {
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url: `${api}/issues/comments/${comment.id}`,
    html_url: `${urls.web}/${repo.fullName}/${isPull ? 'pull' : 'issues'}/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${api}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: userJson(urls, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: authorAssociation(state, repo, comment.user),
    performed_via_github_app:
      comment.user.id === state.bot.id ? appJson(urls, state, undefined) : null,
    reactions: {
      url: `${api}/issues/comments/${comment.id}/reactions`,
      total_count: 0,
      '+1': 0,
      '-1': 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
  };
}

export function installationJson(urls: Urls, state: FakeState, installation: Installation): Json {
  return {
    id: installation.id,
    account: userJson(urls, installation.account),
    repository_selection: 'all',
    access_tokens_url: `${urls.api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.web}/settings/installations/${installation.id}`,
    app_id: state.appId,
    app_slug: state.appSlug,
    target_id: installation.account.id,
    target_type: installation.account.type,
    permissions: APP_PERMISSIONS,
    events: ['check_run', 'pull_request', 'pull_request_review', 'push'],
    created_at: installation.createdAt,
    updated_at: installation.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

export function branchHeadJson(urls: Urls, repo: RepoRecord, branch: string): Json {
  const sha = branchSha(repo, branch)!;
  return {
    name: branch,
    commit: { sha, url: `${urls.api}/repos/${repo.fullName}/commits/${sha}` },
    protected: repo.protection.has(branch),
  };
}

export function refJson(urls: Urls, repo: RepoRecord, ref: string, sha: string): Json {
  return {
    ref,
    node_id: nodeId('Ref', `${repo.id}:${ref}`),
    url: `${urls.api}/repos/${repo.fullName}/git/${ref}`,
    object: { sha, type: 'commit', url: `${urls.api}/repos/${repo.fullName}/git/commits/${sha}` },
  };
}

/** One entry of the contents API; `content` (base64, wrapped like GitHub) only for files. */
export function contentJson(
  urls: Urls,
  repo: RepoRecord,
  ref: string,
  path: string,
  entry: { type: 'blob' | 'tree'; sha: string },
  withContent: boolean,
): Json {
  const api = `${urls.api}/repos/${repo.fullName}`;
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  const isFile = entry.type === 'blob';
  const blob = isFile ? repo.git.blob(entry.sha) : undefined;
  const self = `${api}/contents/${encoded}?ref=${encodeURIComponent(ref)}`;
  const git = `${api}/git/${isFile ? 'blobs' : 'trees'}/${entry.sha}`;
  const html = `${urls.web}/${repo.fullName}/${isFile ? 'blob' : 'tree'}/${ref}/${encoded}`;
  const json: Json = {
    type: isFile ? 'file' : 'dir',
    size: blob?.content.length ?? 0,
    name: path.split('/').pop() ?? path,
    path,
    sha: entry.sha,
    url: self,
    git_url: git,
    html_url: html,
    download_url: isFile ? `${urls.web}/${repo.fullName}/raw/${ref}/${encoded}` : null,
    _links: { self, git, html },
  };
  if (withContent && blob !== undefined) {
    json['encoding'] = 'base64';
    json['content'] = wrapBase64(blob.content);
  }
  return json;
}

/** GitHub wraps base64 content at 60 characters per line (RFC 2045 style, `\n`). */
export function wrapBase64(content: Buffer): string {
  const b64 = content.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 60) lines.push(b64.slice(i, i + 60));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
