import type { PullRecord, RepoRecord } from './fake-state.js';
import type { TreeChange } from './git-objects.js';
import { lineDiff } from './line-diff.js';

export interface PullFile extends TreeChange {
  readonly additions: number;
  readonly deletions: number;
  readonly patch: string;
}

export function branchSha(repo: RepoRecord, branch: string): string | undefined {
  return repo.refs.get(`refs/heads/${branch}`);
}

/** `base.sha` of a PR: the live base branch head while open, frozen when it was closed. */
export function pullBaseSha(repo: RepoRecord, pull: PullRecord): string {
  return pull.frozenBaseSha ?? branchSha(repo, pull.baseRef) ?? pull.headSha;
}

/** Commits of the PR, oldest first: reachable from head and not from base. */
export function pullCommits(repo: RepoRecord, pull: PullRecord): string[] {
  return repo.git.commitsBetween(pullBaseSha(repo, pull), pull.headSha);
}

/**
 * Files of the PR: GitHub shows the three-dot diff, from the merge base of base and head to
 * the head, so changes that landed on the base meanwhile do not appear.
 * See https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/proposing-changes-to-your-work-with-pull-requests/about-comparing-branches-in-pull-requests#three-dot-and-two-dot-git-diff-comparisons
 */
export function pullFiles(repo: RepoRecord, pull: PullRecord): PullFile[] {
  return compareFiles(repo, pullBaseSha(repo, pull), pull.headSha);
}

export function compareFiles(repo: RepoRecord, base: string, head: string): PullFile[] {
  const mergeBase = repo.git.mergeBase(base, head);
  const fromTree = mergeBase === null ? null : (repo.git.commit(mergeBase)?.tree ?? null);
  const toTree = repo.git.commit(head)?.tree;
  return toTree === undefined ? [] : diffTrees(repo, fromTree, toTree);
}

/** Changed files between two trees (null = empty), with line counts and patches. */
export function diffTrees(repo: RepoRecord, fromTree: string | null, toTree: string): PullFile[] {
  // Trees are content-addressed, so a diff between two of them never changes.
  const key = `${fromTree ?? 'empty'}:${toTree}`;
  let cache = diffCache.get(repo);
  if (cache === undefined) {
    cache = new Map();
    diffCache.set(repo, cache);
  }
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const text = (sha: string | null): string | null =>
    sha === null ? null : (repo.git.blob(sha)?.content.toString('utf8') ?? null);
  const files = repo.git
    .diff(fromTree, toTree)
    .map((change) => ({ ...change, ...lineDiff(text(change.oldSha), text(change.newSha)) }));
  cache.set(key, files);
  return files;
}

const diffCache = new WeakMap<RepoRecord, Map<string, PullFile[]>>();

/** Whether GitHub would be able to merge the PR without conflicts (null: unknown). */
export function pullMergeable(repo: RepoRecord, pull: PullRecord): boolean | null {
  if (pull.mergeableOverride !== null) return pull.mergeableOverride;
  if (pull.merged || pull.issue.state === 'closed') return null;
  const base = branchSha(repo, pull.baseRef);
  if (base === undefined) return false;
  return mergeTreeFor(repo, base, pull.headSha).clean;
}

export function mergeTreeFor(repo: RepoRecord, baseSha: string, headSha: string) {
  const mergeBase = repo.git.mergeBase(baseSha, headSha);
  const baseTree = mergeBase === null ? null : (repo.git.commit(mergeBase)?.tree ?? null);
  return repo.git.mergeTrees(
    baseTree,
    repo.git.commit(baseSha)!.tree,
    repo.git.commit(headSha)!.tree,
  );
}
