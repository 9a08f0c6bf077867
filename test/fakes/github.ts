/**
 * An in-process fake of the GitHub REST API calls Cody Batch makes, on 127.0.0.1:0, answering
 * with GitHub's response shapes and status codes. It checks the Authorization header (personal
 * tokens, App JWTs signed with the App key, installation tokens with an expiry on an injectable
 * clock), can inject failures (secondary rate limits with `retry-after`, 404s), enforces a
 * configurable pull-request creation rate, and answers 501 naming any route it does not serve,
 * so a new call cannot pass unnoticed. State is plain data tests can read.
 */
import { readBody } from "./http.ts";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHash, randomBytes, verify, type KeyObject } from "node:crypto";
import type { AddressInfo } from "node:net";

export type FakeLabel = { id: number; name: string; color: string; description: string | null };

export type FakePull = {
  number: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  draft: boolean;
  state: "open" | "closed";
  labels: string[];
  requestedReviewers: string[];
  requestedTeams: string[];
  assignees: string[];
  /** Changed files listed by `GET …/pulls/{n}/files`; absent → read from the bare remote under `gitRoot`. */
  files?: string[];
  // ── campaign (issue 12): merge state, reviews, a forced conflict ──
  merged?: boolean;
  mergedAt?: string;
  /** Set by tests: GitHub reports a conflict with the base (mergeable false, "dirty"). */
  conflicting?: boolean;
  reviews?: FakeReview[];
  comments?: string[];
};

/** A review on a fake pull request. */
export type FakeReview = { id: number; user: string; state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED"; submittedAt: string };
/** A check run on a commit. */
export type FakeCheckRun = {
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required" | null;
  /** The run's output (issue 19: healing reads it). */
  output?: { title?: string; summary?: string; text?: string };
  /** Served by `GET …/check-runs/{id}/annotations`. */
  annotations?: { path: string; start_line: number; end_line?: number; annotation_level: "notice" | "warning" | "failure"; message: string; title?: string }[];
  /** Assigned by setCheckRuns: unique over the fake. */
  id?: number;
};
/** A commit status (the older Statuses API). */
export type FakeStatus = { context: string; state: "error" | "failure" | "pending" | "success"; description?: string };

export type FakeRepo = {
  owner: string;
  name: string;
  defaultBranch: string;
  archived: boolean;
  /** "none": every route of the repository answers 404; "read": writes answer 403. */
  access: "write" | "read" | "none";
  /** Branch name → commit sha; a PR whose head sha equals its base sha has "No commits between". */
  branches: Map<string, string>;
  labels: Map<string, FakeLabel>;
  pulls: FakePull[];
  collaborators: Set<string>;
  teams: Set<string>;
  /** A fork (search and listings report `fork: true`). */
  fork?: boolean;
  /** Repository topics, for `topic:` in repository search. */
  topics?: string[];
  /** Default-branch files (path → content) for code search and `GET …/contents/{path}`; absent → the bare remote under `gitRoot`. */
  files?: Map<string, string>;
  // ── campaign (issue 12) ──
  /** Commit sha → check runs / commit statuses. */
  checkRuns?: Map<string, FakeCheckRun[]>;
  statuses?: Map<string, FakeStatus[]>;
  /** Branch protection of the default branch: merges need this many approvals and green checks. */
  protection?: { requiredApprovals?: number; requireChecks?: boolean };
  /** GitHub's "Automatically delete head branches": a merge deletes the PR's branch. */
  deleteBranchOnMerge?: boolean;
  /** Merge methods the repository allows (default all three). */
  mergeMethods?: Array<"merge" | "squash" | "rebase">;
};

export type FakeRequest = { method: string; path: string; status: number; auth: "token" | "jwt" | "installation" | "none" | "invalid" };

/** A one-off answer for matching requests, before any other check but authentication. */
export type Injection = {
  method?: string;
  path: string | RegExp;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching requests get this answer (default 1). */
  times?: number;
};

export type FakeGitHubOptions = {
  /** Personal or fine-grained tokens accepted as `token X` / `Bearer X`. */
  tokens?: string[];
  /** A GitHub App: JWTs must be RS256-signed by `publicKey`'s private key with `iss = appId`. */
  app?: { appId: string; publicKey: KeyObject | string; installations: Array<{ id: number; account: string }> };
  /** Clock for installation-token expiry and the PR creation windows (default Date.now). */
  now?: () => number;
  /** PR creations allowed per epoch-aligned window; above it, 403 secondary rate limit. */
  prCreationLimit?: { windowMs: number; limit: number };
  /** Lifetime of installation tokens (default 1 hour, as GitHub's). */
  installationTokenTtlMs?: number;
  /**
   * Bare git remotes served as `<gitRoot>/<owner>/<name>.git`: when set, a repository's branches
   * are read from its remote before each request, so pushes made with real git are seen.
   */
  gitRoot?: string;
};

/** Copies the branches of the bare remote of `r` under `root` into the fake's state. */
function syncBranches(r: FakeRepo, root: string): void {
  const dir = join(root, r.owner, `${r.name}.git`);
  if (!existsSync(dir)) return;
  const out = execFileSync("git", ["for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"], { cwd: dir, encoding: "utf8" });
  for (const line of out.split("\n").filter(Boolean)) {
    const [name, sha] = line.split(" ");
    if (name && sha) r.branches.set(name, sha);
  }
}

export type FakeGitHub = {
  url: string;
  repos: Map<string, FakeRepo>;
  /** login → "Organization" | "User"; owners of added repos default to Organization. */
  owners: Map<string, "Organization" | "User">;
  requests: FakeRequest[];
  /** Branches deleted through the API or by a merge with delete_branch_on_merge, as `owner/name:branch`. */
  deletedBranches: string[];
  injections: Injection[];
  /** PR creation accounting: successful creations per window, the most seen in one window, rejections. */
  prCreations: { perWindow: Map<number, number>; maxPerWindow: number; rejected: number; total: number };
  /** Installation tokens issued, oldest first (tests compare them; never logged). */
  issuedTokens: Array<{ installationId: number; token: string; expiresAt: number }>;
  addRepo(fullName: string, init?: Partial<Omit<FakeRepo, "owner" | "name">> & { ownerType?: "Organization" | "User" }): FakeRepo;
  /** Sets a branch's head commit (what a push does). */
  setBranch(fullName: string, branch: string, sha: string): void;
  inject(injection: Injection): void;
  /** Search answers: `incomplete` sets `incomplete_results` (a search that timed out on GitHub's side). */
  search: { incomplete: boolean };
  /** Pull requests of a repository (all states). */
  pulls(fullName: string): FakePull[];
  // ── campaign (issue 12) ──
  /** Sets the check runs of a commit (or of a branch's head when `ref` is a branch). */
  setCheckRuns(fullName: string, ref: string, runs: FakeCheckRun[]): void;
  /** Sets the commit statuses of a commit (or branch head). */
  setStatuses(fullName: string, ref: string, statuses: FakeStatus[]): void;
  /** Adds a review to pull request `number`. */
  addReview(fullName: string, number: number, user: string, state: FakeReview["state"]): void;
  close(): Promise<void>;
};

const DOCS = "https://docs.github.com/rest";
const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.";

type Ctx = {
  /** The request's If-None-Match (conditional GETs, campaign block). */
  ifNoneMatch?: string;
  method: string;
  url: URL;
  params: string[];
  body: Record<string, unknown>;
  auth: FakeRequest["auth"];
  installationId?: number;
};
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
type Route = { method: string; pattern: RegExp; appAuth?: boolean; /** Answers carry an ETag; a matching If-None-Match gets 304. */ etag?: boolean; handle: (c: Ctx) => Answer };

/** Starts the fake; `close()` stops it. */
export async function startFakeGitHub(opts: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const now = opts.now ?? Date.now;
  const tokens = new Set(opts.tokens ?? []);
  const repos = new Map<string, FakeRepo>();
  const owners = new Map<string, "Organization" | "User">();
  const requests: FakeRequest[] = [];
  const deletedBranches: string[] = [];
  const injections: Injection[] = [];
  const prCreations = { perWindow: new Map<number, number>(), maxPerWindow: 0, rejected: 0, total: 0 };
  const issuedTokens: FakeGitHub["issuedTokens"] = [];
  let nextNumber = 1;
  let nextId = 1000;
  let baseUrl = "";

  const notFound = (): Answer => ({ status: 404, body: { message: "Not Found", documentation_url: DOCS, status: "404" } });
  const validation = (errors: unknown[], doc = `${DOCS}/pulls/pulls#create-a-pull-request`): Answer => ({
    status: 422,
    body: { message: "Validation Failed", errors, documentation_url: doc, status: "422" },
  });
  const key = (owner: string, name: string) => `${owner}/${name}`.toLowerCase();

  function repoOf(c: Ctx, write: boolean): FakeRepo | Answer {
    const r = repos.get(key(c.params[0]!, c.params[1]!));
    if (!r || r.access === "none") return notFound();
    if (opts.gitRoot) syncBranches(r, opts.gitRoot);
    if (write && r.access === "read") {
      const message = c.auth === "installation" ? "Resource not accessible by integration" : "Resource not accessible by personal access token";
      return { status: 403, body: { message, documentation_url: DOCS, status: "403" } };
    }
    return r;
  }
  const isAnswer = <T extends object>(v: T | Answer): v is Answer => "status" in v && typeof (v as Answer).status === "number";

  const userJson = (login: string) => ({ login, id: login.length, type: "User", html_url: `https://github.test/${login}` });
  function repoJson(r: FakeRepo) {
    const full = `${r.owner}/${r.name}`;
    return {
      id: r.name.length + 1,
      node_id: `R_${full}`,
      name: r.name,
      full_name: full,
      private: true,
      owner: { ...userJson(r.owner), type: owners.get(r.owner.toLowerCase()) ?? "Organization" },
      html_url: `https://github.test/${full}`,
      url: `${baseUrl}/repos/${full}`,
      default_branch: r.defaultBranch,
      archived: r.archived,
      fork: r.fork ?? false,
      topics: r.topics ?? [],
      disabled: false,
      permissions: { admin: false, maintain: false, push: r.access === "write", triage: true, pull: true },
      delete_branch_on_merge: r.deleteBranchOnMerge === true,
    };
  }
  function pullJson(r: FakeRepo, p: FakePull) {
    const full = `${r.owner}/${r.name}`;
    const ref = (branch: string) => ({
      label: `${r.owner}:${branch}`,
      ref: branch,
      sha: r.branches.get(branch) ?? "0".repeat(40),
      repo: repoJson(r),
      user: userJson(r.owner),
    });
    return {
      url: `${baseUrl}/repos/${full}/pulls/${p.number}`,
      id: p.number * 7,
      node_id: `PR_${p.number}`,
      html_url: `https://github.test/${full}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      body: p.body,
      user: userJson("cody-bot"),
      labels: p.labels.map((n) => r.labels.get(n.toLowerCase())),
      draft: p.draft,
      merged: p.merged === true,
      merged_at: p.mergedAt ?? null,
      mergeable: mergeableOf(r, p).mergeable,
      mergeable_state: mergeableOf(r, p).state,
      head: ref(p.head),
      base: ref(p.base),
      requested_reviewers: p.requestedReviewers.map(userJson),
      requested_teams: p.requestedTeams.map((slug) => ({ slug, name: slug })),
      assignees: p.assignees.map(userJson),
      created_at: new Date(0).toISOString(),
      updated_at: new Date(0).toISOString(),
    };
  }
  function ensureLabel(r: FakeRepo, name: string, color = "ededed", description: string | null = null): FakeLabel {
    const existing = r.labels.get(name.toLowerCase());
    if (existing) return existing;
    const label = { id: nextId++, name, color, description };
    r.labels.set(name.toLowerCase(), label);
    return label;
  }
  function pullOf(r: FakeRepo, n: string): FakePull | undefined {
    return r.pulls.find((p) => p.number === Number(n));
  }
  function paginate(c: Ctx, items: unknown[]): Answer {
    const perPage = Math.min(Number(c.url.searchParams.get("per_page") ?? 30) || 30, 100);
    const page = Number(c.url.searchParams.get("page") ?? 1) || 1;
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number, rel: string) => {
      const u = new URL(c.url.pathname + c.url.search, baseUrl);
      u.searchParams.set("per_page", String(perPage));
      u.searchParams.set("page", String(p));
      return `<${u.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
    if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(", ") } : {} };
  }

  // ---- targeting (issue 13): code search, repository search, contents, pull request files ----
  const search = { incomplete: false };
  const gitOut = (r: FakeRepo, args: string[]): string | undefined => {
    const dir = opts.gitRoot && join(opts.gitRoot, r.owner, `${r.name}.git`);
    if (!dir || !existsSync(dir)) return undefined;
    try {
      return execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      return undefined;
    }
  };
  const filesOf = (r: FakeRepo): Map<string, string> => {
    if (r.files) return r.files;
    const out = new Map<string, string>();
    for (const path of (gitOut(r, ["ls-tree", "-r", "--name-only", r.defaultBranch]) ?? "").split("\n").filter(Boolean)) {
      out.set(path, gitOut(r, ["show", `${r.defaultBranch}:${path}`]) ?? "");
    }
    return out;
  };
  /** Splits a search query into qualifiers (`key:value`) and free terms (quotes removed). */
  const parseQuery = (q: string) => {
    const quals: Array<[string, string]> = [];
    const terms: string[] = [];
    for (const m of q.matchAll(/"([^"]*)"|(\S+)/g)) {
      const tok = m[1] ?? m[2]!;
      const qual = m[2] !== undefined ? /^([a-z]+):(.+)$/.exec(tok) : null;
      if (qual) quals.push([qual[1]!, qual[2]!.toLowerCase()]);
      else terms.push(tok.toLowerCase());
    }
    return { quals, terms };
  };
  const ownerMatches = (r: FakeRepo, quals: Array<[string, string]>) =>
    quals.every(([k, v]) => (k === "user" || k === "org" ? r.owner.toLowerCase() === v : k === "repo" ? `${r.owner}/${r.name}`.toLowerCase() === v : true));
  /** A search answer page: `{ total_count, incomplete_results, items }` with GitHub's Link header. */
  const searchAnswer = (c: Ctx, items: unknown[]): Answer => {
    if (!c.url.searchParams.get("q")) return validation([{ resource: "Search", field: "q", code: "missing" }], `${DOCS}/search/search`);
    const page = paginate(c, items);
    return { ...page, body: { total_count: items.length, incomplete_results: search.incomplete, items: page.body } };
  };
  const searchRoutes: Route[] = [
    // Issue search as `cody import` uses it: `is:pr head:BRANCH` (with user:/org:/repo:).
    { method: "GET", pattern: /^\/search\/issues$/, handle: (c) => {
      const { quals } = parseQuery(c.url.searchParams.get("q") ?? "");
      const head = quals.find(([k]) => k === "head")?.[1];
      const items: unknown[] = [];
      for (const r of repos.values()) {
        if (r.access === "none" || !ownerMatches(r, quals)) continue;
        for (const p of r.pulls) {
          if (head && p.head.toLowerCase() !== head) continue;
          items.push({ number: p.number, title: p.title, state: p.state, html_url: `https://github.test/${r.owner}/${r.name}/pull/${p.number}`, repository_url: `${baseUrl}/repos/${r.owner}/${r.name}`, pull_request: { url: `${baseUrl}/repos/${r.owner}/${r.name}/pulls/${p.number}` }, score: 1 });
        }
      }
      return searchAnswer(c, items);
    } },
    { method: "GET", pattern: /^\/search\/code$/, handle: (c) => {
      const { quals, terms } = parseQuery(c.url.searchParams.get("q") ?? "");
      const items: unknown[] = [];
      for (const r of repos.values()) {
        if (r.access === "none" || !ownerMatches(r, quals)) continue;
        for (const [path, content] of filesOf(r)) {
          const pathOk = quals.every(([k, v]) => (k === "path" ? path.toLowerCase().startsWith(v.replace(/^\//, "")) : k === "filename" ? path.toLowerCase().split("/").pop() === v : k === "extension" ? path.toLowerCase().endsWith(`.${v}`) : true));
          if (!pathOk || !terms.every((t) => content.toLowerCase().includes(t))) continue;
          // Code search reports a minimal repository: no `archived` flag.
          const { archived: _a, ...minimal } = repoJson(r);
          items.push({ name: path.split("/").pop(), path, sha: "0".repeat(40), url: `${baseUrl}/repos/${r.owner}/${r.name}/contents/${path}`, repository: minimal, score: 1 });
        }
      }
      return searchAnswer(c, items);
    } },
    { method: "GET", pattern: /^\/search\/repositories$/, handle: (c) => {
      const { quals, terms } = parseQuery(c.url.searchParams.get("q") ?? "");
      const fork = quals.find(([k]) => k === "fork")?.[1];
      const archived = quals.find(([k]) => k === "archived")?.[1];
      const items = [...repos.values()].filter(
        (r) =>
          r.access !== "none" &&
          ownerMatches(r, quals) &&
          quals.every(([k, v]) => k !== "topic" || (r.topics ?? []).includes(v)) &&
          // As GitHub: forks only with fork:true / fork:only.
          (fork === "only" ? r.fork === true : fork === "true" || !r.fork) &&
          (archived === undefined || String(r.archived) === archived) &&
          terms.every((t) => r.name.toLowerCase().includes(t)),
      );
      return searchAnswer(c, items.map(repoJson));
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/, handle: (c) => {
      const r = repoOf(c, false);
      if (isAnswer(r)) return r;
      const path = c.params[2]!;
      const ref = c.url.searchParams.get("ref") ?? r.defaultBranch;
      const content = r.files ? r.files.get(path) : gitOut(r, ["show", `${ref}:${path}`]);
      if (content === undefined) return notFound();
      return { status: 200, body: { type: "file", encoding: "base64", size: content.length, name: path.split("/").pop(), path, sha: "0".repeat(40), content: Buffer.from(content).toString("base64") } };
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/, handle: (c) => {
      const r = repoOf(c, false);
      if (isAnswer(r)) return r;
      const p = pullOf(r, c.params[2]!);
      if (!p) return notFound();
      const files = p.files ?? (gitOut(r, ["diff", "--name-only", `${p.base}...${p.head}`]) ?? "").split("\n").filter(Boolean);
      return paginate(c, files.map((filename) => ({ sha: "0".repeat(40), filename, status: "modified", additions: 1, deletions: 0, changes: 1 })));
    } },
  ];
  // ---- end targeting ----

  const routes: Route[] = [
    ...searchRoutes,
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)$/, handle: (c) => {
      const r = repoOf(c, false);
      return isAnswer(r) ? r : { status: 200, body: repoJson(r) };
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls$/, handle: (c) => {
      const r = repoOf(c, false);
      if (isAnswer(r)) return r;
      const state = c.url.searchParams.get("state") ?? "open";
      const head = c.url.searchParams.get("head");
      const base = c.url.searchParams.get("base");
      const list = r.pulls.filter(
        (p) =>
          (state === "all" || p.state === state) &&
          (!head || `${r.owner}:${p.head}`.toLowerCase() === head.toLowerCase()) &&
          (!base || p.base === base),
      );
      return paginate(c, list.map((p) => pullJson(r, p)));
    } },
    { method: "POST", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls$/, handle: (c) => {
      const r = repoOf(c, true);
      if (isAnswer(r)) return r;
      const { title, head, base, body, draft } = c.body as { title?: string; head?: string; base?: string; body?: string; draft?: boolean };
      if (!title || !head || !base) return validation([{ resource: "PullRequest", code: "missing_field", field: !title ? "title" : !head ? "head" : "base" }]);
      const headBranch = head.includes(":") ? head.split(":")[1]! : head;
      if (!r.branches.has(headBranch)) return validation([{ resource: "PullRequest", field: "head", code: "invalid" }]);
      if (!r.branches.has(base)) return validation([{ resource: "PullRequest", field: "base", code: "invalid" }]);
      if (r.pulls.some((p) => p.state === "open" && p.head === headBranch && p.base === base)) {
        return validation([{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${r.owner}:${headBranch}.` }]);
      }
      if (r.branches.get(headBranch) === r.branches.get(base)) {
        return validation([{ resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${headBranch}` }]);
      }
      if (opts.prCreationLimit) {
        const { windowMs, limit } = opts.prCreationLimit;
        const t = now();
        const w = Math.floor(t / windowMs);
        const count = prCreations.perWindow.get(w) ?? 0;
        if (count >= limit) {
          prCreations.rejected += 1;
          const retryAfter = Math.max(1, Math.ceil(((w + 1) * windowMs - t) / 1000));
          return { status: 403, body: { message: SECONDARY_MESSAGE, documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api` }, headers: { "retry-after": String(retryAfter) } };
        }
        prCreations.perWindow.set(w, count + 1);
        prCreations.maxPerWindow = Math.max(prCreations.maxPerWindow, count + 1);
      }
      prCreations.total += 1;
      const pull: FakePull = {
        number: nextNumber++,
        title,
        body: body ?? null,
        head: headBranch,
        base,
        draft: draft === true,
        state: "open",
        labels: [],
        requestedReviewers: [],
        requestedTeams: [],
        assignees: [],
      };
      r.pulls.push(pull);
      return { status: 201, body: pullJson(r, pull), headers: { location: pullJson(r, pull).url } };
    } },
    { method: "PATCH", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, handle: (c) => {
      const r = repoOf(c, true);
      if (isAnswer(r)) return r;
      const p = pullOf(r, c.params[2]!);
      if (!p) return notFound();
      const b = c.body as Partial<{ title: string; body: string; base: string; state: "open" | "closed" }>;
      // campaign (issue 12): GitHub refuses to change the state of a merged pull request.
      if (p.merged && b.state !== undefined) return validation([{ resource: "PullRequest", code: "custom", field: "state", message: "state cannot be changed. The pull request has already been merged." }], `${DOCS}/pulls/pulls#update-a-pull-request`);
      if (b.base !== undefined && !r.branches.has(b.base)) return validation([{ resource: "PullRequest", field: "base", code: "invalid" }]);
      Object.assign(p, Object.fromEntries(Object.entries({ title: b.title, body: b.body, base: b.base, state: b.state }).filter(([, v]) => v !== undefined)));
      return { status: 200, body: pullJson(r, p) };
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/labels\/([^/]+)$/, handle: (c) => {
      const r = repoOf(c, false);
      if (isAnswer(r)) return r;
      const label = r.labels.get(decodeURIComponent(c.params[2]!).toLowerCase());
      return label ? { status: 200, body: label } : notFound();
    } },
    { method: "POST", pattern: /^\/repos\/([^/]+)\/([^/]+)\/labels$/, handle: (c) => {
      const r = repoOf(c, true);
      if (isAnswer(r)) return r;
      const { name, color, description } = c.body as { name?: string; color?: string; description?: string };
      if (!name) return validation([{ resource: "Label", code: "missing_field", field: "name" }], `${DOCS}/issues/labels#create-a-label`);
      if (r.labels.has(name.toLowerCase())) return validation([{ resource: "Label", code: "already_exists", field: "name" }], `${DOCS}/issues/labels#create-a-label`);
      return { status: 201, body: ensureLabel(r, name, color, description ?? null) };
    } },
    { method: "POST", pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/, handle: (c) => {
      const r = repoOf(c, true);
      if (isAnswer(r)) return r;
      const p = pullOf(r, c.params[2]!);
      if (!p) return notFound();
      const names = ((c.body as { labels?: unknown }).labels ?? []) as string[];
      for (const n of names) {
        const label = ensureLabel(r, n); // GitHub creates unknown labels with a default colour
        if (!p.labels.some((l) => l.toLowerCase() === label.name.toLowerCase())) p.labels.push(label.name);
      }
      return { status: 200, body: p.labels.map((n) => r.labels.get(n.toLowerCase())) };
    } },
    { method: "POST", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/requested_reviewers$/, handle: (c) => {
      const r = repoOf(c, true);
      if (isAnswer(r)) return r;
      const p = pullOf(r, c.params[2]!);
      if (!p) return notFound();
      const { reviewers = [], team_reviewers = [] } = c.body as { reviewers?: string[]; team_reviewers?: string[] };
      if (reviewers.some((u) => !r.collaborators.has(u.toLowerCase())) || team_reviewers.some((t) => !r.teams.has(t.toLowerCase()))) {
        return {
          status: 422,
          body: {
            message: `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${r.owner}/${r.name} repository.`,
            documentation_url: `${DOCS}/pulls/review-requests#request-reviewers-for-a-pull-request`,
            status: "422",
          },
        };
      }
      for (const u of reviewers) if (!p.requestedReviewers.includes(u)) p.requestedReviewers.push(u);
      for (const t of team_reviewers) if (!p.requestedTeams.includes(t)) p.requestedTeams.push(t);
      return { status: 201, body: pullJson(r, p) };
    } },
    { method: "POST", pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/assignees$/, handle: (c) => {
      const r = repoOf(c, true);
      if (isAnswer(r)) return r;
      const p = pullOf(r, c.params[2]!);
      if (!p) return notFound();
      // GitHub silently ignores assignees without access to the repository.
      for (const u of ((c.body as { assignees?: string[] }).assignees ?? [])) {
        if (r.collaborators.has(u.toLowerCase()) && !p.assignees.includes(u)) p.assignees.push(u);
      }
      return { status: 201, body: { ...pullJson(r, p), pull_request: { url: pullJson(r, p).url } } };
    } },
    { method: "GET", pattern: /^\/orgs\/([^/]+)\/repos$/, handle: (c) => {
      const login = c.params[0]!.toLowerCase();
      if (owners.get(login) !== "Organization") return notFound();
      return paginate(c, [...repos.values()].filter((r) => r.owner.toLowerCase() === login && r.access !== "none").map(repoJson));
    } },
    { method: "GET", pattern: /^\/users\/([^/]+)\/repos$/, handle: (c) => {
      const login = c.params[0]!.toLowerCase();
      if (!owners.has(login)) return notFound();
      return paginate(c, [...repos.values()].filter((r) => r.owner.toLowerCase() === login && r.access !== "none").map(repoJson));
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/installation$/, appAuth: true, handle: (c) => installationFor(c.params[0]!) },
    { method: "GET", pattern: /^\/orgs\/([^/]+)\/installation$/, appAuth: true, handle: (c) => installationFor(c.params[0]!, "Organization") },
    { method: "GET", pattern: /^\/users\/([^/]+)\/installation$/, appAuth: true, handle: (c) => installationFor(c.params[0]!) },
    { method: "GET", pattern: /^\/app\/installations$/, appAuth: true, handle: () => ({
      status: 200,
      body: (opts.app?.installations ?? []).map((i) => installationJson(i)),
    }) },
    { method: "POST", pattern: /^\/app\/installations\/(\d+)\/access_tokens$/, appAuth: true, handle: (c) => {
      const id = Number(c.params[0]);
      if (!opts.app?.installations.some((i) => i.id === id)) return notFound();
      const token = `ghs_${randomBytes(18).toString("hex")}`;
      const expiresAt = now() + (opts.installationTokenTtlMs ?? 3600_000);
      issuedTokens.push({ installationId: id, token, expiresAt });
      return {
        status: 201,
        body: {
          token,
          expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
          permissions: { contents: "write", pull_requests: "write", issues: "write", metadata: "read" },
          repository_selection: "all",
        },
      };
    } },
  ];

  // ── campaign routes (issue 12): PR state, checks, reviews, merge, branch deletion, comments ──
  function mergeableOf(r: FakeRepo, p: FakePull): { mergeable: boolean | null; state: string } {
    if (p.state !== "open") return { mergeable: null, state: "unknown" };
    if (p.conflicting) return { mergeable: false, state: "dirty" };
    if (p.draft) return { mergeable: true, state: "draft" };
    const head = r.branches.get(p.head);
    const base = r.branches.get(p.base);
    if (opts.gitRoot && head && base && !isAncestor(join(opts.gitRoot, r.owner, `${r.name}.git`), base, head)) return { mergeable: true, state: "behind" };
    const checks = checksOf(r, head ?? "");
    if (!approvedEnough(r, p) || (r.protection?.requireChecks && checks !== "success")) return { mergeable: true, state: "blocked" };
    return { mergeable: true, state: checks === "failure" ? "unstable" : "clean" };
  }
  function checksOf(r: FakeRepo, sha: string): "success" | "failure" | "pending" {
    const runs = r.checkRuns?.get(sha) ?? [];
    const statuses = r.statuses?.get(sha) ?? [];
    if (runs.some((x) => x.status === "completed" && ["failure", "timed_out", "cancelled", "action_required"].includes(x.conclusion ?? "")) || statuses.some((x) => x.state === "failure" || x.state === "error")) return "failure";
    if (runs.some((x) => x.status !== "completed") || statuses.some((x) => x.state === "pending")) return "pending";
    return "success";
  }
  function approvedEnough(r: FakeRepo, p: FakePull): boolean {
    const need = r.protection?.requiredApprovals ?? 0;
    const latest = new Map<string, string>();
    for (const v of p.reviews ?? []) if (v.state !== "COMMENTED") latest.set(v.user, v.state);
    const states = [...latest.values()];
    return !states.includes("CHANGES_REQUESTED") && states.filter((s) => s === "APPROVED").length >= need;
  }
  function deleteBranch(r: FakeRepo, branch: string): void {
    r.branches.delete(branch);
    deletedBranches.push(`${r.owner}/${r.name}:${branch}`);
    if (opts.gitRoot) execFileSync("git", ["update-ref", "-d", `refs/heads/${branch}`], { cwd: join(opts.gitRoot, r.owner, `${r.name}.git`) });
  }
  const shaOf = (r: FakeRepo, ref: string) => r.branches.get(ref) ?? ref;
  const pullRoute = (c: Ctx, write: boolean): { r: FakeRepo; p: FakePull } | Answer => {
    const r = repoOf(c, write);
    if (isAnswer(r)) return r;
    const p = pullOf(r, c.params[2]!);
    return p ? { r, p } : notFound();
  };
  const campaignRoutes: Route[] = [
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, etag: true, handle: (c) => {
      const x = pullRoute(c, false);
      return isAnswer(x) ? x : { status: 200, body: pullJson(x.r, x.p) };
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/, etag: true, handle: (c) => {
      const r = repoOf(c, false);
      if (isAnswer(r)) return r;
      const sha = shaOf(r, c.params[2]!);
      const runs = (r.checkRuns?.get(sha) ?? []).map((x, i) => ({
        id: x.id ?? i + 1, head_sha: sha, node_id: `CR_${i}`, external_id: "", url: `${baseUrl}/repos/${r.owner}/${r.name}/check-runs/${x.id ?? i + 1}`,
        html_url: `https://github.test/${r.owner}/${r.name}/runs/${i + 1}`, details_url: null, status: x.status, conclusion: x.conclusion,
        started_at: new Date(0).toISOString(), completed_at: x.status === "completed" ? new Date(0).toISOString() : null, name: x.name,
        output: { title: x.output?.title ?? null, summary: x.output?.summary ?? null, text: x.output?.text ?? null, annotations_count: x.annotations?.length ?? 0, annotations_url: `${baseUrl}/repos/${r.owner}/${r.name}/check-runs/${x.id ?? i + 1}/annotations` }, check_suite: { id: 1 }, app: { id: 1, slug: "ci", name: "CI" }, pull_requests: [],
      }));
      return { status: 200, body: { total_count: runs.length, check_runs: runs } };
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)\/annotations$/, handle: (c) => {
      const r = repoOf(c, false);
      if (isAnswer(r)) return r;
      const id = Number(c.params[2]);
      const run = [...(r.checkRuns?.values() ?? [])].flat().find((x) => x.id === id);
      if (!run) return { status: 404, body: { message: "Not Found" } };
      return { status: 200, body: (run.annotations ?? []).map((a) => ({ path: a.path, start_line: a.start_line, end_line: a.end_line ?? a.start_line, annotation_level: a.annotation_level, message: a.message, title: a.title ?? null, raw_details: null, blob_href: "", start_column: null, end_column: null })) };
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/status$/, etag: true, handle: (c) => {
      const r = repoOf(c, false);
      if (isAnswer(r)) return r;
      const sha = shaOf(r, c.params[2]!);
      const list = r.statuses?.get(sha) ?? [];
      const state = list.length === 0 ? "pending" : list.some((x) => x.state === "failure" || x.state === "error") ? "failure" : list.some((x) => x.state === "pending") ? "pending" : "success";
      return {
        status: 200,
        body: {
          state, sha, total_count: list.length, repository: repoJson(r), commit_url: `${baseUrl}/repos/${r.owner}/${r.name}/commits/${sha}`,
          statuses: list.map((x, i) => ({ id: i + 1, node_id: `S_${i}`, state: x.state, context: x.context, description: x.description ?? null, target_url: null, created_at: new Date(0).toISOString(), updated_at: new Date(0).toISOString() })),
        },
      };
    } },
    { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/reviews$/, etag: true, handle: (c) => {
      const x = pullRoute(c, false);
      if (isAnswer(x)) return x;
      const head = x.r.branches.get(x.p.head) ?? "";
      return paginate(c, (x.p.reviews ?? []).map((v) => ({ id: v.id, node_id: `PRR_${v.id}`, user: userJson(v.user), body: "", state: v.state, commit_id: head, submitted_at: v.submittedAt, author_association: "MEMBER", html_url: `https://github.test/${x.r.owner}/${x.r.name}/pull/${x.p.number}#pullrequestreview-${v.id}` })));
    } },
    { method: "PUT", pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/merge$/, handle: (c) => {
      const x = pullRoute(c, true);
      if (isAnswer(x)) return x;
      const { r, p } = x;
      const { merge_method = "merge", sha } = c.body as { merge_method?: "merge" | "squash" | "rebase"; sha?: string };
      const notAllowed = (message: string): Answer => ({ status: 405, body: { message, documentation_url: `${DOCS}/pulls/pulls#merge-a-pull-request`, status: "405" } });
      if (p.merged || p.state !== "open" || p.conflicting || p.draft) return notAllowed("Pull Request is not mergeable");
      if (!(r.mergeMethods ?? ["merge", "squash", "rebase"]).includes(merge_method)) {
        return notAllowed(`${merge_method === "merge" ? "Merge commits" : merge_method === "squash" ? "Squash merges" : "Rebase merges"} are not allowed on this repository.`);
      }
      const head = r.branches.get(p.head) ?? "";
      if (sha && sha !== head) return { status: 409, body: { message: "Head branch was modified. Review and try the merge again.", documentation_url: `${DOCS}/pulls/pulls#merge-a-pull-request`, status: "409" } };
      if (!approvedEnough(r, p)) return notAllowed("At least 1 approving review is required by reviewers with write access.");
      if (r.protection?.requireChecks && checksOf(r, head) !== "success") return notAllowed("Required status check \"ci\" is failing.");
      const mergeSha = randomBytes(20).toString("hex");
      p.merged = true;
      p.mergedAt = new Date(now()).toISOString();
      p.state = "closed";
      if (!opts.gitRoot) r.branches.set(p.base, mergeSha);
      if (r.deleteBranchOnMerge) deleteBranch(r, p.head);
      return { status: 200, body: { sha: mergeSha, merged: true, message: "Pull Request successfully merged" } };
    } },
    // Octokit sends the ref encoded (heads%2Fcody%2Fj-…); params arrive decoded.
    { method: "DELETE", pattern: /^\/repos\/([^/]+)\/([^/]+)\/git\/refs\/(.+)$/, handle: (c) => {
      const r = repoOf(c, true);
      if (isAnswer(r)) return r;
      const ref = c.params[2]!;
      if (!ref.startsWith("heads/")) return { status: 422, body: { message: "Reference does not exist", documentation_url: `${DOCS}/git/refs#delete-a-reference`, status: "422" } };
      const branch = ref.slice("heads/".length);
      if (!r.branches.has(branch)) return { status: 422, body: { message: "Reference does not exist", documentation_url: `${DOCS}/git/refs#delete-a-reference`, status: "422" } };
      deleteBranch(r, branch);
      return { status: 204 };
    } },
    { method: "POST", pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, handle: (c) => {
      const x = pullRoute(c, true);
      if (isAnswer(x)) return x;
      const text = String((c.body as { body?: unknown }).body ?? "");
      if (!text) return validation([{ resource: "IssueComment", code: "missing_field", field: "body" }], `${DOCS}/issues/comments#create-an-issue-comment`);
      (x.p.comments ??= []).push(text);
      const id = nextId++;
      return { status: 201, body: { id, node_id: `IC_${id}`, body: text, user: userJson("cody-bot"), html_url: `https://github.test/${x.r.owner}/${x.r.name}/pull/${x.p.number}#issuecomment-${id}`, created_at: new Date(now()).toISOString() } };
    } },
  ];
  routes.unshift(...campaignRoutes);
  // ── end of campaign routes ──

  function installationJson(i: { id: number; account: string }) {
    return { id: i.id, account: userJson(i.account), app_id: Number(opts.app?.appId), target_type: owners.get(i.account.toLowerCase()) ?? "Organization", permissions: {} };
  }
  function installationFor(owner: string, mustBe?: "Organization"): Answer {
    const i = opts.app?.installations.find((x) => x.account.toLowerCase() === owner.toLowerCase());
    if (!i) return notFound();
    if (mustBe && (owners.get(owner.toLowerCase()) ?? "Organization") !== mustBe) return notFound();
    return { status: 200, body: installationJson(i) };
  }

  function authenticate(header: string | undefined): { auth: FakeRequest["auth"]; installationId?: number } {
    if (!header) return { auth: "none" };
    const m = /^(token|bearer)\s+(\S+)$/i.exec(header);
    if (!m) return { auth: "invalid" };
    const credential = m[2]!;
    if (tokens.has(credential)) return { auth: "token" };
    const issued = issuedTokens.find((t) => t.token === credential);
    if (issued) return issued.expiresAt > now() ? { auth: "installation", installationId: issued.installationId } : { auth: "invalid" };
    if (opts.app && isValidJwt(credential, opts.app.appId, opts.app.publicKey)) return { auth: "jwt" };
    return { auth: "invalid" };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", baseUrl);
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const send = (a: Answer, auth: FakeRequest["auth"]) => {
      requests.push({ method, path: url.pathname, status: a.status, auth });
      res.writeHead(a.status, {
        "content-type": "application/json; charset=utf-8",
        "x-github-media-type": "github.v3; format=json",
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
        ...a.headers,
      });
      res.end(a.body === undefined ? "" : JSON.stringify(a.body));
    };
    const { auth, installationId } = authenticate(req.headers.authorization);
    const route = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
    if (!route) return send({ status: 501, body: { message: `fake GitHub does not serve ${method} ${url.pathname}` } }, auth);
    const wantsJwt = route.appAuth === true;
    if (auth === "none" || auth === "invalid" || (auth === "jwt") !== wantsJwt) {
      const message = wantsJwt && auth !== "invalid" && auth !== "none" ? "A JSON web token could not be decoded" : "Bad credentials";
      return send({ status: 401, body: { message, documentation_url: DOCS, status: "401" } }, auth);
    }
    const inj = injections.find((i) => (!i.method || i.method === method) && (typeof i.path === "string" ? i.path === url.pathname : i.path.test(url.pathname)));
    if (inj) {
      inj.times = (inj.times ?? 1) - 1;
      if (inj.times <= 0) injections.splice(injections.indexOf(inj), 1);
      return send({ status: inj.status, body: inj.body ?? defaultBodyFor(inj.status), headers: inj.headers }, auth);
    }
    let body: Record<string, unknown> = {};
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return send({ status: 400, body: { message: "Problems parsing JSON", documentation_url: DOCS } }, auth);
      }
    }
    const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
    const ifNoneMatch = typeof req.headers["if-none-match"] === "string" ? req.headers["if-none-match"] : undefined;
    const answer = route.handle({ method, url, params, body, auth, installationId, ...(ifNoneMatch ? { ifNoneMatch } : {}) });
    return send(route.etag ? conditional(answer, ifNoneMatch) : answer, auth);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `fake GitHub error: ${String(err)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    repos,
    owners,
    requests,
    deletedBranches,
    injections,
    prCreations,
    issuedTokens,
    search,
    addRepo(fullName, init = {}) {
      const [owner, name] = fullName.split("/") as [string, string];
      const { ownerType, ...rest } = init;
      if (!owners.has(owner.toLowerCase()) || ownerType) owners.set(owner.toLowerCase(), ownerType ?? "Organization");
      const defaultBranch = rest.defaultBranch ?? "main";
      const repo: FakeRepo = {
        owner,
        name,
        defaultBranch,
        archived: false,
        access: "write",
        branches: new Map([[defaultBranch, "a".repeat(40)]]),
        labels: new Map(),
        pulls: [],
        collaborators: new Set(),
        teams: new Set(),
        ...rest,
      };
      repos.set(key(owner, name), repo);
      return repo;
    },
    setBranch(fullName, branch, sha) {
      const r = repos.get(fullName.toLowerCase());
      if (!r) throw new Error(`fake GitHub: no repository ${fullName}`);
      r.branches.set(branch, sha);
    },
    inject(injection) {
      injections.push({ ...injection });
    },
    pulls(fullName) {
      return repos.get(fullName.toLowerCase())?.pulls ?? [];
    },
    // ── campaign (issue 12) ──
    setCheckRuns(fullName, ref, runs) {
      const r = repos.get(fullName.toLowerCase());
      if (!r) throw new Error(`fake GitHub: no repository ${fullName}`);
      if (opts.gitRoot) syncBranches(r, opts.gitRoot);
      for (const run of runs) run.id ??= nextId++;
      (r.checkRuns ??= new Map()).set(r.branches.get(ref) ?? ref, runs);
    },
    setStatuses(fullName, ref, statuses) {
      const r = repos.get(fullName.toLowerCase());
      if (!r) throw new Error(`fake GitHub: no repository ${fullName}`);
      if (opts.gitRoot) syncBranches(r, opts.gitRoot);
      (r.statuses ??= new Map()).set(r.branches.get(ref) ?? ref, statuses);
    },
    addReview(fullName, number, user, state) {
      const p = repos.get(fullName.toLowerCase())?.pulls.find((x) => x.number === number);
      if (!p) throw new Error(`fake GitHub: no pull request ${fullName}#${number}`);
      (p.reviews ??= []).push({ id: nextId++, user, state, submittedAt: new Date(now()).toISOString() });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** GitHub's conditional GETs: an ETag on every 200, and 304 without a body when If-None-Match matches. */
function conditional(a: Answer, ifNoneMatch: string | undefined): Answer {
  if (a.status !== 200) return a;
  const etag = `W/"${createHash("sha1").update(JSON.stringify(a.body ?? null)).digest("hex")}"`;
  if (ifNoneMatch && ifNoneMatch.split(/\s*,\s*/).includes(etag)) return { status: 304, headers: { ...a.headers, etag } };
  return { ...a, headers: { ...a.headers, etag } };
}

/** True when commit `ancestor` is an ancestor of `of` in the bare repository `dir`. */
function isAncestor(dir: string, ancestor: string, of: string): boolean {
  try {
    execFileSync("git", ["merge-base", "--is-ancestor", ancestor, of], { cwd: dir, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The body GitHub sends with a status, for injections that give none. */
function defaultBodyFor(status: number): unknown {
  if (status === 403) return { message: SECONDARY_MESSAGE, documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api` };
  if (status === 404) return { message: "Not Found", documentation_url: DOCS, status: "404" };
  if (status === 401) return { message: "Bad credentials", documentation_url: DOCS, status: "401" };
  return { message: `status ${status}` };
}

/** The message GitHub sends with a secondary rate limit (the throttling plugin matches "secondary rate"). */
export const SECONDARY_RATE_LIMIT_MESSAGE = SECONDARY_MESSAGE;

function isValidJwt(jwt: string, appId: string, publicKey: KeyObject | string): boolean {
  const parts = jwt.split(".");
  if (parts.length !== 3) return false;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg?: string };
    const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as { iss?: unknown; exp?: number; iat?: number };
    if (header.alg !== "RS256" || String(payload.iss) !== appId) return false;
    // JWTs are signed with the real clock; GitHub refuses ones that expired or last over 10 minutes.
    const nowSec = Date.now() / 1000;
    if (!payload.exp || payload.exp < nowSec || !payload.iat || payload.exp - payload.iat > 600 + 60) return false;
    return verify("RSA-SHA256", Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, "base64url"));
  } catch {
    return false;
  }
}


// --- botsec: GitHub's refusals on the pull-request path (issue 15) ---
/**
 * Answers GitHub gives when it refuses a pull-request call, with the bodies its REST API sends
 * (`message`, `errors[]`, `documentation_url`). A test makes a route answer one of them with
 * `fake.inject({ method, path, ...GITHUB_REFUSALS.headInvalid, times })`.
 */
export const GITHUB_REFUSALS = {
  headInvalid: { status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", field: "head", code: "invalid" }], documentation_url: `${DOCS}/pulls/pulls#create-a-pull-request`, status: "422" } },
  baseInvalid: { status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", field: "base", code: "invalid" }], documentation_url: `${DOCS}/pulls/pulls#create-a-pull-request`, status: "422" } },
  customValidation: { status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", message: "Head sha can't be blank" }], documentation_url: DOCS, status: "422" } },
  forbidden: { status: 403, body: { message: "Resource not accessible by integration", documentation_url: DOCS, status: "403" } },
  archived: { status: 403, body: { message: "Repository was archived so is read-only.", documentation_url: DOCS, status: "403" } },
  notFound: { status: 404, body: { message: "Not Found", documentation_url: DOCS, status: "404" } },
  conflict: { status: 409, body: { message: "Git Repository is empty.", documentation_url: DOCS, status: "409" } },
  unavailableForLegalReasons: { status: 451, body: { message: "Repository access blocked", block: { reason: "dmca", created_at: "2026-01-01T00:00:00Z", html_url: "https://github.com/github/dmca" }, status: "451" } },
} as const;
// --- end botsec ---
