import { GitObjectStore } from './git-objects.js';
import { notFound } from './http-error.js';

export type AccountType = 'User' | 'Organization' | 'Bot';

export interface Account {
  readonly id: number;
  readonly login: string;
  readonly type: AccountType;
  readonly name: string;
  readonly email: string;
}

export interface TeamMembership {
  state: 'active' | 'pending';
  role: 'member' | 'maintainer';
}

export interface Team {
  readonly id: number;
  readonly org: Account;
  readonly slug: string;
  readonly name: string;
  readonly members: Map<string, TeamMembership>;
}

export interface Installation {
  readonly id: number;
  readonly account: Account;
  readonly createdAt: string;
}

export type Credential =
  | { readonly kind: 'user'; readonly account: Account }
  | { readonly kind: 'installation'; readonly installationId: number; readonly expiresAt: Date };

export interface IssueRecord {
  readonly number: number;
  readonly id: number;
  title: string;
  body: string | null;
  readonly user: Account;
  state: 'open' | 'closed';
  /** Label names, in the order they were added. */
  labels: string[];
  readonly createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  readonly isPull: boolean;
}

export type ReviewState = 'PENDING' | 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';

export interface ReviewRecord {
  readonly id: number;
  readonly user: Account;
  body: string;
  state: ReviewState;
  readonly commitId: string;
  readonly submittedAt: string | null;
}

export interface PullRecord {
  readonly issue: IssueRecord;
  readonly id: number;
  readonly headRef: string;
  headSha: string;
  readonly baseRef: string;
  /** The base branch head when the PR was closed; while open the live branch head is used. */
  frozenBaseSha: string | null;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: Account | null;
  mergeCommitSha: string | null;
  readonly reviews: ReviewRecord[];
  requestedReviewers: Account[];
  requestedTeams: Team[];
  /** Set by `fake.setMergeable` to simulate conflicts or GitHub still computing. */
  mergeableOverride: boolean | null;
}

export interface Annotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly start_column?: number;
  readonly end_column?: number;
  readonly annotation_level: 'notice' | 'warning' | 'failure';
  readonly message: string;
  readonly title?: string;
  readonly raw_details?: string;
}

export interface CheckRunRecord {
  readonly id: number;
  readonly headSha: string;
  name: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  readonly annotations: Annotation[];
  externalId: string;
  detailsUrl: string | null;
  readonly checkSuiteId: number;
}

export interface CommentRecord {
  readonly id: number;
  readonly issueNumber: number;
  readonly user: Account;
  body: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface LabelRecord {
  readonly id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface BranchProtection {
  /** Check run names that must have concluded success/neutral/skipped on the head SHA. */
  readonly requiredChecks: readonly string[];
  /** GitHub's "Dismiss stale pull request approvals when new commits are pushed". */
  readonly dismissStaleReviews: boolean;
}

export interface RepoRecord {
  readonly id: number;
  readonly owner: Account;
  readonly name: string;
  readonly fullName: string;
  readonly private: boolean;
  readonly defaultBranch: string;
  readonly createdAt: string;
  pushedAt: string;
  readonly git: GitObjectStore;
  /** Full ref name (`refs/heads/main`) → commit SHA. */
  readonly refs: Map<string, string>;
  readonly issues: Map<number, IssueRecord>;
  readonly pulls: Map<number, PullRecord>;
  /** Keyed by lower-cased name: GitHub label names are case-insensitive. */
  readonly labels: Map<string, LabelRecord>;
  readonly checkRuns: Map<number, CheckRunRecord>;
  /** head SHA → check suite id of the app (one suite per app and commit). */
  readonly checkSuites: Map<string, number>;
  readonly comments: Map<number, CommentRecord>;
  readonly protection: Map<string, BranchProtection>;
  nextNumber: number;
}

/** Distinct id ranges per kind, so a test that mixes up a review id and a PR id fails. */
const ID_BASES = {
  account: 1_000,
  team: 20_000,
  installation: 30_000,
  repo: 500_000,
  issue: 1_000_000,
  review: 2_000_000,
  check: 3_000_000,
  suite: 4_000_000,
  comment: 5_000_000,
  label: 6_000_000,
} as const;

export type IdKind = keyof typeof ID_BASES;

/** GitHub timestamps have second precision: `2019-05-15T15:20:33Z`. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The in-memory world: accounts, teams, installations, credentials and repositories. */
export class FakeState {
  readonly appId: number;
  readonly appSlug: string;
  readonly bot: Account;
  readonly webFlow: Account;
  readonly now: () => Date;
  readonly accounts = new Map<string, Account>();
  readonly credentials = new Map<string, Credential>();
  readonly teams = new Map<string, Team>();
  readonly orgMembers = new Map<string, Set<string>>();
  readonly installations = new Map<number, Installation>();
  readonly repos = new Map<string, RepoRecord>();
  readonly #counters = new Map<IdKind, number>();

  constructor(options: { appId: number; appSlug: string; now: () => Date }) {
    this.appId = options.appId;
    this.appSlug = options.appSlug;
    this.now = options.now;
    this.bot = this.#addAccount(`${options.appSlug}[bot]`, 'Bot');
    // Merge commits made on github.com are committed by "GitHub" (login web-flow).
    this.webFlow = this.#addAccount('web-flow', 'User', 'GitHub', 'noreply@github.com');
  }

  nextId(kind: IdKind): number {
    const next = (this.#counters.get(kind) ?? ID_BASES[kind]) + 1;
    this.#counters.set(kind, next);
    return next;
  }

  stamp(): string {
    return timestamp(this.now());
  }

  findAccount(login: string): Account | undefined {
    return this.accounts.get(login.toLowerCase());
  }

  account(login: string): Account {
    const found = this.findAccount(login);
    if (found === undefined) throw notFound();
    return found;
  }

  ensureUser(login: string): Account {
    return this.findAccount(login) ?? this.#addAccount(login, 'User');
  }

  ensureOrg(login: string): Account {
    return this.findAccount(login) ?? this.#addAccount(login, 'Organization');
  }

  accountByEmail(email: string): Account | undefined {
    for (const account of this.accounts.values()) if (account.email === email) return account;
    return undefined;
  }

  team(org: string, slug: string): Team | undefined {
    return this.teams.get(`${org.toLowerCase()}/${slug.toLowerCase()}`);
  }

  ensureTeam(org: string, slug: string, name?: string): Team {
    const existing = this.team(org, slug);
    if (existing !== undefined) return existing;
    const team: Team = {
      id: this.nextId('team'),
      org: this.ensureOrg(org),
      slug,
      name: name ?? slug,
      members: new Map(),
    };
    this.teams.set(`${org.toLowerCase()}/${slug.toLowerCase()}`, team);
    return team;
  }

  isOrgMember(org: string, login: string): boolean {
    return this.orgMembers.get(org.toLowerCase())?.has(login.toLowerCase()) ?? false;
  }

  addOrgMember(org: string, login: string): void {
    this.ensureOrg(org);
    this.ensureUser(login);
    const key = org.toLowerCase();
    const members = this.orgMembers.get(key) ?? new Set<string>();
    members.add(login.toLowerCase());
    this.orgMembers.set(key, members);
  }

  installationFor(account: Account): Installation | undefined {
    for (const installation of this.installations.values()) {
      if (installation.account.id === account.id) return installation;
    }
    return undefined;
  }

  ensureInstallation(account: Account): Installation {
    const existing = this.installationFor(account);
    if (existing !== undefined) return existing;
    const installation: Installation = {
      id: this.nextId('installation'),
      account,
      createdAt: this.stamp(),
    };
    this.installations.set(installation.id, installation);
    return installation;
  }

  findRepo(fullName: string): RepoRecord | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  repo(owner: string, name: string): RepoRecord {
    const found = this.findRepo(`${owner}/${name}`);
    if (found === undefined) throw notFound();
    return found;
  }

  addRepo(owner: Account, name: string, defaultBranch: string, isPrivate: boolean): RepoRecord {
    const now = this.stamp();
    const repo: RepoRecord = {
      id: this.nextId('repo'),
      owner,
      name,
      fullName: `${owner.login}/${name}`,
      private: isPrivate,
      defaultBranch,
      createdAt: now,
      pushedAt: now,
      git: new GitObjectStore(),
      refs: new Map(),
      issues: new Map(),
      pulls: new Map(),
      labels: new Map(),
      checkRuns: new Map(),
      checkSuites: new Map(),
      comments: new Map(),
      protection: new Map(),
      nextNumber: 1,
    };
    this.repos.set(repo.fullName.toLowerCase(), repo);
    return repo;
  }

  #addAccount(login: string, type: AccountType, name?: string, email?: string): Account {
    const id = this.nextId('account');
    const account: Account = {
      id,
      login,
      type,
      name: name ?? login,
      // GitHub's private no-reply address, which is how it maps commits back to logins.
      email: email ?? `${id}+${login}@users.noreply.github.com`,
    };
    this.accounts.set(login.toLowerCase(), account);
    return account;
  }
}
