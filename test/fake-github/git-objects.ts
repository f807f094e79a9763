import { createHash } from 'node:crypto';

/** A person in a commit header, plus the GitHub login GitHub derives from the e-mail. */
export interface GitSignature {
  readonly name: string;
  readonly email: string;
  /** ISO 8601, second precision, `Z` suffix: the format GitHub's REST API returns. */
  readonly date: string;
  readonly login: string | null;
}

export interface GitBlob {
  readonly type: 'blob';
  readonly content: Buffer;
}

export interface GitTreeEntry {
  readonly name: string;
  readonly mode: '100644' | '100755' | '040000';
  readonly type: 'blob' | 'tree';
  readonly sha: string;
}

export interface GitTree {
  readonly type: 'tree';
  readonly entries: readonly GitTreeEntry[];
}

export interface GitCommit {
  readonly type: 'commit';
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: GitSignature;
  readonly committer: GitSignature;
  readonly message: string;
}

export type GitObject = GitBlob | GitTree | GitCommit;

/** One file of a flattened tree. */
export interface TreeFile {
  readonly sha: string;
  readonly mode: '100644' | '100755';
}

export interface TreeChange {
  readonly path: string;
  readonly status: 'added' | 'modified' | 'removed';
  readonly oldSha: string | null;
  readonly newSha: string | null;
}

export type MergeOutcome =
  | { readonly clean: true; readonly tree: string }
  | { readonly clean: false; readonly conflicts: readonly string[] };

/**
 * Content-addressed git objects with the SHA-1 ids real git computes (`blob <len>\0…`), so
 * SHAs look and behave like GitHub's: the same content always gets the same blob SHA, and a
 * tree or commit SHA changes whenever anything below it changes.
 * See https://git-scm.com/book/en/v2/Git-Internals-Git-Objects
 */
export class GitObjectStore {
  readonly #objects = new Map<string, GitObject>();
  // Objects are immutable and content-addressed, so derived answers can be cached forever;
  // the benchmarks run thousands of PRs and files through the same history.
  readonly #dates = new Map<string, number>();
  readonly #mergeBases = new Map<string, string | null>();
  readonly #between = new Map<string, string[]>();
  readonly #merges = new Map<string, MergeOutcome>();

  has(sha: string): boolean {
    return this.#objects.has(sha);
  }

  get(sha: string): GitObject | undefined {
    return this.#objects.get(sha);
  }

  blob(sha: string): GitBlob | undefined {
    const object = this.#objects.get(sha);
    return object?.type === 'blob' ? object : undefined;
  }

  tree(sha: string): GitTree | undefined {
    const object = this.#objects.get(sha);
    return object?.type === 'tree' ? object : undefined;
  }

  commit(sha: string): GitCommit | undefined {
    const object = this.#objects.get(sha);
    return object?.type === 'commit' ? object : undefined;
  }

  putBlob(content: Buffer | string): string {
    const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    return this.#store(`blob ${buffer.length}\0`, buffer, { type: 'blob', content: buffer });
  }

  putTree(entries: readonly GitTreeEntry[]): string {
    // Git orders tree entries by name, comparing a directory as if its name ended in '/'.
    const sorted = [...entries].sort((a, b) => {
      const ka = a.type === 'tree' ? `${a.name}/` : a.name;
      const kb = b.type === 'tree' ? `${b.name}/` : b.name;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    const body = Buffer.concat(
      sorted.map((entry) =>
        Buffer.concat([
          Buffer.from(`${entry.mode === '040000' ? '40000' : entry.mode} ${entry.name}\0`),
          Buffer.from(entry.sha, 'hex'),
        ]),
      ),
    );
    return this.#store(`tree ${body.length}\0`, body, { type: 'tree', entries: sorted });
  }

  putCommit(commit: Omit<GitCommit, 'type'>): string {
    const stamp = (s: GitSignature): string =>
      `${s.name} <${s.email}> ${Math.floor(Date.parse(s.date) / 1000)} +0000`;
    const message = commit.message.endsWith('\n') ? commit.message : `${commit.message}\n`;
    const text =
      `tree ${commit.tree}\n` +
      commit.parents.map((parent) => `parent ${parent}\n`).join('') +
      `author ${stamp(commit.author)}\ncommitter ${stamp(commit.committer)}\n\n${message}`;
    const body = Buffer.from(text, 'utf8');
    return this.#store(`commit ${body.length}\0`, body, { type: 'commit', ...commit });
  }

  emptyTree(): string {
    return this.putTree([]);
  }

  /** Every file below a tree, keyed by its full path. */
  flatten(treeSha: string, prefix = ''): Map<string, TreeFile> {
    const files = new Map<string, TreeFile>();
    const tree = this.tree(treeSha);
    if (tree === undefined) return files;
    for (const entry of tree.entries) {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.type === 'tree') {
        for (const [sub, file] of this.flatten(entry.sha, path)) files.set(sub, file);
      } else {
        files.set(path, { sha: entry.sha, mode: entry.mode === '100755' ? '100755' : '100644' });
      }
    }
    return files;
  }

  /** Builds the nested trees for a flat path → blob map and returns the root tree SHA. */
  writeFlat(files: ReadonlyMap<string, TreeFile>): string {
    const children = new Map<string, Map<string, TreeFile>>();
    const entries: GitTreeEntry[] = [];
    for (const [path, file] of files) {
      const slash = path.indexOf('/');
      if (slash === -1) {
        entries.push({ name: path, mode: file.mode, type: 'blob', sha: file.sha });
      } else {
        const dir = path.slice(0, slash);
        const rest = path.slice(slash + 1);
        let sub = children.get(dir);
        if (sub === undefined) {
          sub = new Map();
          children.set(dir, sub);
        }
        sub.set(rest, file);
      }
    }
    for (const [dir, sub] of children) {
      entries.push({ name: dir, mode: '040000', type: 'tree', sha: this.writeFlat(sub) });
    }
    return this.putTree(entries);
  }

  /** Applies file writes (string/Buffer) and deletions (null) on top of a tree. */
  applyChanges(
    baseTree: string | null,
    changes: Readonly<Record<string, string | Buffer | null>>,
  ): string {
    const files = baseTree === null ? new Map<string, TreeFile>() : this.flatten(baseTree);
    for (const [path, content] of Object.entries(changes)) {
      const clean = normalisePath(path);
      if (content === null) files.delete(clean);
      else files.set(clean, { sha: this.putBlob(content), mode: '100644' });
    }
    return this.writeFlat(files);
  }

  /** Finds the object at `path` inside a tree ('' is the tree itself). */
  lookup(treeSha: string, path: string): GitTreeEntry | { type: 'tree'; sha: string } | undefined {
    const clean = normalisePath(path);
    if (clean === '') return { type: 'tree', sha: treeSha };
    let current: GitTreeEntry | undefined;
    let tree: GitTree | undefined = this.tree(treeSha);
    for (const part of clean.split('/')) {
      if (tree === undefined) return undefined;
      current = tree.entries.find((entry) => entry.name === part);
      if (current === undefined) return undefined;
      tree = current.type === 'tree' ? this.tree(current.sha) : undefined;
    }
    return current;
  }

  /** Files that differ between two trees (null = empty tree), sorted by path. */
  diff(fromTree: string | null, toTree: string): TreeChange[] {
    const before = fromTree === null ? new Map<string, TreeFile>() : this.flatten(fromTree);
    const after = this.flatten(toTree);
    const changes: TreeChange[] = [];
    for (const [path, file] of after) {
      const old = before.get(path);
      if (old === undefined)
        changes.push({ path, status: 'added', oldSha: null, newSha: file.sha });
      else if (old.sha !== file.sha)
        changes.push({ path, status: 'modified', oldSha: old.sha, newSha: file.sha });
    }
    for (const [path, file] of before) {
      if (!after.has(path))
        changes.push({ path, status: 'removed', oldSha: file.sha, newSha: null });
    }
    return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** All commits reachable from `start`, newest committer date first (git log order). */
  log(start: string, stopAt: ReadonlySet<string> = new Set()): string[] {
    return [...this.walk(start, stopAt)];
  }

  /** Lazily walks history newest first, so callers that stop early do not pay for it all. */
  *walk(start: string, stopAt: ReadonlySet<string> = new Set()): Generator<string> {
    const seen = new Set<string>();
    const queue = [start];
    while (queue.length > 0) {
      // Pick the newest queued commit, like `git log`'s default date ordering; ties keep
      // queue order, so a merge's first parent comes first.
      let best = 0;
      for (let i = 1; i < queue.length; i++) {
        if (this.#date(queue[i]!) > this.#date(queue[best]!)) best = i;
      }
      const sha = queue.splice(best, 1)[0]!;
      if (seen.has(sha) || stopAt.has(sha)) continue;
      seen.add(sha);
      const commit = this.commit(sha);
      if (commit === undefined) continue;
      yield sha;
      for (const parent of commit.parents) if (!seen.has(parent)) queue.push(parent);
    }
  }

  ancestors(start: string): Set<string> {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const sha = stack.pop()!;
      if (seen.has(sha)) continue;
      seen.add(sha);
      for (const parent of this.commit(sha)?.parents ?? []) stack.push(parent);
    }
    return seen;
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return this.ancestors(descendant).has(ancestor);
  }

  /** The best common ancestor (newest commit reachable from both), or null. */
  mergeBase(a: string, b: string): string | null {
    const key = `${a}:${b}`;
    const cached = this.#mergeBases.get(key);
    if (cached !== undefined) return cached;
    const fromA = this.ancestors(a);
    let found: string | null = null;
    for (const sha of this.walk(b)) {
      if (fromA.has(sha)) {
        found = sha;
        break;
      }
    }
    this.#mergeBases.set(key, found);
    return found;
  }

  /** Commits in `head` but not in `base`, oldest first (what a pull request lists). */
  commitsBetween(base: string, head: string): string[] {
    const key = `${base}:${head}`;
    let cached = this.#between.get(key);
    if (cached === undefined) {
      cached = this.log(head, this.ancestors(base)).reverse();
      this.#between.set(key, cached);
    }
    return [...cached];
  }

  /**
   * `git log <start> -- <path>` with git's default history simplification: a merge that
   * leaves the path as one parent had it is skipped and only that parent is followed, so the
   * commit listed is the one that really changed the file.
   * See https://git-scm.com/docs/git-log#_history_simplification
   */
  historyOfPath(start: string, path: string): string[] {
    const clean = normalisePath(path);
    const blobAt = (commitSha: string): string | null => {
      const commit = this.commit(commitSha);
      if (commit === undefined) return null;
      const entry = this.lookup(commit.tree, clean);
      return entry?.sha ?? null;
    };
    const included: string[] = [];
    const seen = new Set<string>();
    const queue = [start];
    while (queue.length > 0) {
      let best = 0;
      for (let i = 1; i < queue.length; i++) {
        if (this.#date(queue[i]!) > this.#date(queue[best]!)) best = i;
      }
      const sha = queue.splice(best, 1)[0]!;
      if (seen.has(sha)) continue;
      seen.add(sha);
      const commit = this.commit(sha);
      if (commit === undefined) continue;
      const mine = blobAt(sha);
      if (commit.parents.length === 0) {
        if (mine !== null) included.push(sha);
        continue;
      }
      const same = commit.parents.find((parent) => blobAt(parent) === mine);
      if (same !== undefined) {
        queue.push(same);
        continue;
      }
      included.push(sha);
      queue.push(...commit.parents);
    }
    return included;
  }

  /** Three-way merge of trees at file granularity; both sides changing one file conflicts. */
  mergeTrees(baseTree: string | null, ours: string, theirs: string): MergeOutcome {
    const key = `${baseTree ?? 'empty'}:${ours}:${theirs}`;
    const cached = this.#merges.get(key);
    if (cached !== undefined) return cached;
    const outcome = this.#mergeTrees(baseTree, ours, theirs);
    this.#merges.set(key, outcome);
    return outcome;
  }

  #mergeTrees(baseTree: string | null, ours: string, theirs: string): MergeOutcome {
    const base = baseTree === null ? new Map<string, TreeFile>() : this.flatten(baseTree);
    const left = this.flatten(ours);
    const right = this.flatten(theirs);
    const paths = new Set([...base.keys(), ...left.keys(), ...right.keys()]);
    const merged = new Map<string, TreeFile>();
    const conflicts: string[] = [];
    for (const path of [...paths].sort()) {
      const b = base.get(path)?.sha ?? null;
      const l = left.get(path);
      const r = right.get(path);
      const ls = l?.sha ?? null;
      const rs = r?.sha ?? null;
      let pick: TreeFile | undefined;
      if (ls === rs) pick = l;
      else if (ls === b) pick = r;
      else if (rs === b) pick = l;
      else {
        conflicts.push(path);
        continue;
      }
      if (pick !== undefined) merged.set(path, pick);
    }
    if (conflicts.length > 0) return { clean: false, conflicts };
    return { clean: true, tree: this.writeFlat(merged) };
  }

  #date(sha: string): number {
    let date = this.#dates.get(sha);
    if (date === undefined) {
      const commit = this.commit(sha);
      date = commit === undefined ? 0 : Date.parse(commit.committer.date);
      this.#dates.set(sha, date);
    }
    return date;
  }

  #store(header: string, body: Buffer, object: GitObject): string {
    const sha = createHash('sha1').update(header).update(body).digest('hex');
    if (!this.#objects.has(sha)) this.#objects.set(sha, object);
    return sha;
  }
}

export function normalisePath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
