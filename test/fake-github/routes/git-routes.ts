import type { RepoRecord } from '../fake-state.js';
import type { GitTreeEntry } from '../git-objects.js';
import { FakeHttpError, notFound, validationFailed } from '../http-error.js';
import { branchSha, compareFiles, diffTrees } from '../pull-diff.js';
import {
  branchHeadJson,
  commitJson,
  fullRepoJson,
  gitCommitJson,
  pullJson,
  refJson,
  wrapBase64,
} from '../representations.js';
import {
  actorAccount,
  bodyObject,
  json,
  noContent,
  optionalString,
  paginate,
  repoOf,
  requiredString,
} from '../route-helpers.js';
import type { RouteContext, Router } from '../router.js';

/** Repository, branches, refs, git objects and the commits API. */
export function registerGitRoutes(router: Router): void {
  router.add('GET', '/repos/{owner}/{repo}', (ctx) =>
    json(200, fullRepoJson(ctx.urls, repoOf(ctx))),
  );

  router.add('GET', '/repos/{owner}/{repo}/branches', (ctx) => {
    const repo = repoOf(ctx);
    const names = [...repo.refs.keys()]
      .filter((ref) => ref.startsWith('refs/heads/'))
      .map((ref) => ref.slice('refs/heads/'.length))
      .sort();
    return paginate(
      ctx,
      names.map((name) => branchHeadJson(ctx.urls, repo, name)),
    );
  });

  router.add('GET', '/repos/{owner}/{repo}/branches/{+branch}', (ctx) => {
    const repo = repoOf(ctx);
    const branch = ctx.params['branch']!;
    const sha = branchSha(repo, branch);
    if (sha === undefined) throw new FakeHttpError(404, 'Branch not found');
    return json(200, {
      name: branch,
      commit: commitJson(ctx.urls, repo, ctx.state, sha),
      _links: {
        self: `${ctx.urls.api}/repos/${repo.fullName}/branches/${branch}`,
        html: `${ctx.urls.web}/${repo.fullName}/tree/${branch}`,
      },
      protected: repo.protection.has(branch),
      protection: {
        enabled: repo.protection.has(branch),
        required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] },
      },
      protection_url: `${ctx.urls.api}/repos/${repo.fullName}/branches/${branch}/protection`,
    });
  });

  // --- references: https://docs.github.com/en/rest/git/refs
  const listRefs = (ctx: RouteContext, prefix: string) => {
    const repo = repoOf(ctx);
    const refs = [...repo.refs.entries()]
      .filter(([ref]) => ref.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([ref, sha]) => refJson(ctx.urls, repo, ref, sha));
    return paginate(ctx, refs);
  };
  router.add('GET', '/repos/{owner}/{repo}/git/refs', (ctx) => listRefs(ctx, 'refs/'));
  router.add('GET', '/repos/{owner}/{repo}/git/matching-refs/{+ref}', (ctx) =>
    listRefs(ctx, `refs/${ctx.params['ref']}`),
  );
  router.add('GET', '/repos/{owner}/{repo}/git/ref/{+ref}', (ctx) => {
    const repo = repoOf(ctx);
    const ref = `refs/${ctx.params['ref']}`;
    const sha = repo.refs.get(ref);
    if (sha === undefined) throw notFound();
    return json(200, refJson(ctx.urls, repo, ref, sha));
  });
  router.add('POST', '/repos/{owner}/{repo}/git/refs', (ctx) => {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const ref = requiredString(body, 'ref', 'Reference');
    const sha = requiredString(body, 'sha', 'Reference');
    if (!ref.startsWith('refs/') || ref.split('/').length < 3) {
      throw new FakeHttpError(
        422,
        "Reference name must start with 'refs/' and have at least two slashes.",
      );
    }
    if (repo.refs.has(ref)) throw new FakeHttpError(422, 'Reference already exists');
    if (repo.git.commit(sha) === undefined) throw new FakeHttpError(422, 'Object does not exist');
    ctx.ops.moveRef(repo, ref, sha, actorAccount(ctx));
    return json(201, refJson(ctx.urls, repo, ref, sha));
  });
  router.add('PATCH', '/repos/{owner}/{repo}/git/refs/{+ref}', (ctx) => {
    const repo = repoOf(ctx);
    const ref = `refs/${ctx.params['ref']}`;
    const body = bodyObject(ctx);
    const sha = requiredString(body, 'sha', 'Reference');
    const current = repo.refs.get(ref);
    if (current === undefined) throw new FakeHttpError(422, 'Reference does not exist');
    if (repo.git.commit(sha) === undefined) throw new FakeHttpError(422, 'Object does not exist');
    const fastForward = repo.git.isAncestor(current, sha);
    if (!fastForward && body['force'] !== true)
      throw new FakeHttpError(422, 'Update is not a fast forward');
    ctx.ops.moveRef(repo, ref, sha, actorAccount(ctx), !fastForward);
    return json(200, refJson(ctx.urls, repo, ref, sha));
  });
  router.add('DELETE', '/repos/{owner}/{repo}/git/refs/{+ref}', (ctx) => {
    const repo = repoOf(ctx);
    const ref = `refs/${ctx.params['ref']}`;
    if (!repo.refs.has(ref)) throw new FakeHttpError(422, 'Reference does not exist');
    ctx.ops.moveRef(repo, ref, null, actorAccount(ctx));
    return noContent();
  });

  // --- git objects: https://docs.github.com/en/rest/git
  router.add('GET', '/repos/{owner}/{repo}/git/commits/{commit_sha}', (ctx) => {
    const repo = repoOf(ctx);
    if (repo.git.commit(ctx.params['commit_sha']!) === undefined) throw notFound();
    return json(200, gitCommitJson(ctx.urls, repo, ctx.params['commit_sha']!));
  });
  router.add('POST', '/repos/{owner}/{repo}/git/commits', (ctx) => {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const message = requiredString(body, 'message', 'Commit');
    const tree = requiredString(body, 'tree', 'Commit');
    if (repo.git.tree(tree) === undefined) throw new FakeHttpError(422, 'Tree SHA does not exist');
    const parents = Array.isArray(body['parents']) ? body['parents'].map(String) : [];
    for (const parent of parents) {
      if (repo.git.commit(parent) === undefined)
        throw new FakeHttpError(422, 'Parent SHA does not exist or is not a commit object');
    }
    const account = actorAccount(ctx);
    const signature = ctx.ops.signature(account);
    const person = (value: unknown) => {
      if (typeof value !== 'object' || value === null) return signature;
      const v = value as Record<string, unknown>;
      const email = typeof v['email'] === 'string' ? v['email'] : signature.email;
      return {
        name: typeof v['name'] === 'string' ? v['name'] : signature.name,
        email,
        date: typeof v['date'] === 'string' ? v['date'] : signature.date,
        login: ctx.state.accountByEmail(email)?.login ?? null,
      };
    };
    const author = person(body['author']);
    const sha = repo.git.putCommit({
      tree,
      parents,
      author,
      committer: body['committer'] === undefined ? author : person(body['committer']),
      message,
    });
    return json(201, gitCommitJson(ctx.urls, repo, sha));
  });
  router.add('GET', '/repos/{owner}/{repo}/git/trees/{+tree_sha}', (ctx) => {
    const repo = repoOf(ctx);
    const wanted = ctx.params['tree_sha']!;
    const commit = ctx.ops.resolveCommit(repo, wanted);
    const treeSha =
      repo.git.tree(wanted) !== undefined
        ? wanted
        : commit === null
          ? undefined
          : repo.git.commit(commit)!.tree;
    if (treeSha === undefined) throw notFound();
    const recursive = ctx.query.has('recursive');
    const api = `${ctx.urls.api}/repos/${repo.fullName}/git`;
    const entries: Array<Record<string, unknown>> = [];
    const walk = (sha: string, prefix: string) => {
      for (const entry of repo.git.tree(sha)!.entries) {
        const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
        entries.push({
          path,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
          ...(entry.type === 'blob' ? { size: repo.git.blob(entry.sha)!.content.length } : {}),
          url: `${api}/${entry.type === 'blob' ? 'blobs' : 'trees'}/${entry.sha}`,
        });
        if (recursive && entry.type === 'tree') walk(entry.sha, path);
      }
    };
    walk(treeSha, '');
    return json(200, {
      sha: treeSha,
      url: `${api}/trees/${treeSha}`,
      tree: entries,
      truncated: false,
    });
  });
  router.add('POST', '/repos/{owner}/{repo}/git/trees', (ctx) => {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const baseTree = optionalString(body, 'base_tree');
    if (baseTree !== undefined && repo.git.tree(baseTree) === undefined)
      throw new FakeHttpError(422, 'base_tree is not a valid tree oid');
    if (!Array.isArray(body['tree']))
      throw validationFailed([{ resource: 'Tree', code: 'missing_field', field: 'tree' }]);
    const files = baseTree === undefined ? new Map() : repo.git.flatten(baseTree);
    for (const raw of body['tree'] as Array<Record<string, unknown>>) {
      const path = String(raw['path'] ?? '');
      if (raw['sha'] === null) {
        files.delete(path);
      } else if (typeof raw['content'] === 'string') {
        files.set(path, {
          sha: repo.git.putBlob(raw['content']),
          mode: raw['mode'] === '100755' ? '100755' : '100644',
        });
      } else if (typeof raw['sha'] === 'string' && repo.git.blob(raw['sha']) !== undefined) {
        files.set(path, { sha: raw['sha'], mode: raw['mode'] === '100755' ? '100755' : '100644' });
      } else {
        throw new FakeHttpError(422, `GitRPC::BadObjectState`);
      }
    }
    const sha = repo.git.writeFlat(files);
    const entries: GitTreeEntry[] = [...repo.git.tree(sha)!.entries];
    return json(201, {
      sha,
      url: `${ctx.urls.api}/repos/${repo.fullName}/git/trees/${sha}`,
      tree: entries.map((e) => ({ path: e.name, mode: e.mode, type: e.type, sha: e.sha })),
      truncated: false,
    });
  });
  router.add('GET', '/repos/{owner}/{repo}/git/blobs/{file_sha}', (ctx) => {
    const repo = repoOf(ctx);
    const sha = ctx.params['file_sha']!;
    const blob = repo.git.blob(sha);
    if (blob === undefined) throw notFound();
    return json(200, {
      sha,
      node_id: Buffer.from(`Blob:${sha}`).toString('base64'),
      size: blob.content.length,
      url: `${ctx.urls.api}/repos/${repo.fullName}/git/blobs/${sha}`,
      content: wrapBase64(blob.content),
      encoding: 'base64',
    });
  });
  router.add('POST', '/repos/{owner}/{repo}/git/blobs', (ctx) => {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const content = body['content'];
    if (typeof content !== 'string')
      throw validationFailed([{ resource: 'Blob', code: 'missing_field', field: 'content' }]);
    const buffer =
      body['encoding'] === 'base64' ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8');
    const sha = repo.git.putBlob(buffer);
    return json(201, { sha, url: `${ctx.urls.api}/repos/${repo.fullName}/git/blobs/${sha}` });
  });

  // --- commits: https://docs.github.com/en/rest/commits/commits
  router.add('GET', '/repos/{owner}/{repo}/commits', (ctx) => {
    const repo = repoOf(ctx);
    const start = resolveOr404(ctx, repo, ctx.query.get('sha') ?? repo.defaultBranch);
    const path = ctx.query.get('path');
    let shas =
      path === null || path === '' ? repo.git.log(start) : repo.git.historyOfPath(start, path);
    const author = ctx.query.get('author');
    if (author !== null) {
      shas = shas.filter(
        (sha) => repo.git.commit(sha)!.author.login?.toLowerCase() === author.toLowerCase(),
      );
    }
    return paginate(
      ctx,
      shas.map((sha) => commitJson(ctx.urls, repo, ctx.state, sha)),
    );
  });
  // Registered before `commits/{+ref}` so the suffix is not swallowed by the ref.
  router.add('GET', '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', (ctx) => {
    const repo = repoOf(ctx);
    const sha = resolveOr404(ctx, repo, ctx.params['commit_sha']!);
    return paginate(
      ctx,
      associatedPulls(repo, sha).map((pull) => pullJson(ctx.urls, repo, ctx.state, pull, false)),
    );
  });
  router.add('GET', '/repos/{owner}/{repo}/compare/{+basehead}', (ctx) => {
    const repo = repoOf(ctx);
    const [baseRef, headRef] = ctx.params['basehead']!.split('...');
    if (baseRef === undefined || headRef === undefined) throw notFound();
    const base = resolveOr404(ctx, repo, baseRef);
    const head = resolveOr404(ctx, repo, headRef);
    const mergeBase = repo.git.mergeBase(base, head);
    const ahead = repo.git.commitsBetween(base, head);
    const behind = repo.git.commitsBetween(head, base);
    const status =
      ahead.length === 0 && behind.length === 0
        ? 'identical'
        : behind.length === 0
          ? 'ahead'
          : ahead.length === 0
            ? 'behind'
            : 'diverged';
    return json(200, {
      url: `${ctx.urls.api}/repos/${repo.fullName}/compare/${baseRef}...${headRef}`,
      html_url: `${ctx.urls.web}/${repo.fullName}/compare/${baseRef}...${headRef}`,
      base_commit: commitJson(ctx.urls, repo, ctx.state, base),
      merge_base_commit:
        mergeBase === null ? null : commitJson(ctx.urls, repo, ctx.state, mergeBase),
      status,
      ahead_by: ahead.length,
      behind_by: behind.length,
      total_commits: ahead.length,
      commits: ahead.map((sha) => commitJson(ctx.urls, repo, ctx.state, sha)),
      files: compareFiles(repo, base, head).map((file) => ({
        sha: file.newSha ?? file.oldSha,
        filename: file.path,
        status: file.status,
        additions: file.additions,
        deletions: file.deletions,
        changes: file.additions + file.deletions,
        patch: file.patch,
      })),
    });
  });
}

/** Registered last: `commits/{ref}` takes any ref, so other `commits/...` routes go first. */
export function registerCommitRoute(router: Router): void {
  router.add('GET', '/repos/{owner}/{repo}/commits/{+ref}', (ctx) => {
    const repo = repoOf(ctx);
    const sha = resolveOr404(ctx, repo, ctx.params['ref']!);
    const commit = repo.git.commit(sha)!;
    const parent = commit.parents[0];
    const parentTree = parent === undefined ? null : repo.git.commit(parent)!.tree;
    const files = diffTrees(repo, parentTree, commit.tree);
    return json(200, commitJson(ctx.urls, repo, ctx.state, sha, files));
  });
}

function resolveOr404(ctx: RouteContext, repo: RepoRecord, ref: string): string {
  const sha = ctx.ops.resolveCommit(repo, ref);
  if (sha === null) throw new FakeHttpError(422, `No commit found for SHA: ${ref}`);
  return sha;
}

/**
 * `GET /commits/{sha}/pulls`: on the default branch, the merged PR that brought the commit
 * in; elsewhere also the open PRs that contain it.
 * See https://docs.github.com/en/rest/commits/commits#list-pull-requests-associated-with-a-commit
 */
function associatedPulls(repo: RepoRecord, sha: string) {
  const defaultHead = branchSha(repo, repo.defaultBranch);
  const onDefault = defaultHead !== undefined && repo.git.isAncestor(sha, defaultHead);
  const pulls = [...repo.pulls.values()].filter((pull) => {
    if (onDefault && !pull.merged) return false;
    if (pull.mergeCommitSha === sha) return true;
    const base = pull.frozenBaseSha ?? branchSha(repo, pull.baseRef);
    return base !== undefined && repo.git.commitsBetween(base, pull.headSha).includes(sha);
  });
  return pulls.sort((a, b) => b.issue.number - a.issue.number);
}
