/**
 * Repository selectors: how people name the repositories of a job (CLI `--repo`, one per line in
 * the Slack modal, `on:` in a change spec), and their resolution to `owner/name` lists, always
 * intersected with ALLOWED_REPOSITORIES. Parsing is pure; resolution goes through the
 * {@link TargetSource} port (core/github/github-search.ts is its GitHub adapter).
 *
 * Syntax, one selector per line (or per `--repo`):
 *   owner/name                         one repository
 *   owner/*                            every repository of an org or user
 *   search: <code search query>        repositories with a file matching GitHub code search
 *   repos: <repository search query>   GitHub repository search
 *   topic: <name> [owner:<login>]      repositories with that topic (of one owner)
 * Archived and forked repositories are left out; add `include:archived` and/or `include:forks`
 * to any selector but `owner/name` to keep them.
 */
import { matchesAllowlist, parseOwnerGlob, parseRepoSpec, type AllowPattern } from "../config/index.ts";

/** Which normally-excluded repositories a selector keeps. */
export type Include = { archived: boolean; forks: boolean };

export type Selector =
  | { kind: "repo"; source: string; fullName: string }
  | { kind: "owner"; source: string; owner: string; include: Include }
  | { kind: "code_search"; source: string; query: string; include: Include }
  | { kind: "repo_search"; source: string; query: string; include: Include };

/** A repository as a listing or a search reports it. */
export type RepoInfo = { fullName: string; archived?: boolean; fork?: boolean };

/** One search's repositories (deduplicated by the adapter or not) and what GitHub said about completeness. */
export type SearchAnswer = { repositories: RepoInfo[]; totalCount: number; incomplete: boolean };

/** Where selectors find repositories. Methods throw on outages; a missing owner lists nothing. */
export type TargetSource = {
  listOwner(owner: string, signal?: AbortSignal): Promise<RepoInfo[]>;
  searchCode(query: string, signal?: AbortSignal): Promise<SearchAnswer>;
  searchRepositories(query: string, signal?: AbortSignal): Promise<SearchAnswer>;
};

/** A query GitHub refused (HTTP 422): bad input, shown to the person as a selector error. */
export class BadQueryError extends Error {
  override name = "BadQueryError";
}

const INCLUDE = /(?:^|\s)include:(archived|forks?)(?=\s|$)/gi;

function takeIncludes(text: string): { rest: string; include: Include } {
  const include = { archived: false, forks: false };
  const rest = text.replace(INCLUDE, (_m, what: string) => {
    if (what.toLowerCase() === "archived") include.archived = true;
    else include.forks = true;
    return " ";
  });
  return { rest: rest.replace(/\s+/g, " ").trim(), include };
}

/**
 * Parses one selector as typed. Returns `invalid` with a reason quoting the input for anything
 * that is not one of the forms above (a bad `owner/name`, an empty query, a bad topic).
 */
export function parseSelector(raw: string): Selector | { kind: "invalid"; reason: string } {
  const source = raw.trim();
  const m = /^(search|repos|topic)\s*:\s*(.*)$/is.exec(source);
  if (m) {
    const word = m[1]!.toLowerCase();
    const { rest, include } = takeIncludes(m[2]!);
    if (!rest) return { kind: "invalid", reason: `"${source}": give a query after ${word}:` };
    if (rest.length > 256) return { kind: "invalid", reason: `"${source.slice(0, 40)}…": a search query has at most 256 characters` };
    if (word === "search") return { kind: "code_search", source, query: rest, include };
    if (word === "repos") return { kind: "repo_search", source, query: rest, include };
    const t = /^([a-z0-9][a-z0-9-]{0,49})(?:\s+owner:([A-Za-z0-9-]{1,39}))?$/i.exec(rest);
    if (!t) return { kind: "invalid", reason: `"${source}": write topic: <name> [owner:<login>] (topics are lower-case letters, digits and hyphens)` };
    const query = `topic:${t[1]!.toLowerCase()}${t[2] ? ` user:${t[2]}` : ""}`;
    return { kind: "repo_search", source, query, include };
  }
  const { rest, include } = takeIncludes(source);
  const glob = parseOwnerGlob(rest);
  if (glob) return { kind: "owner", source, owner: glob.owner, include };
  if (rest !== source && parseRepoSpec(rest).kind === "ok") return { kind: "invalid", reason: `"${source}": include: applies to owner/*, search:, repos: and topic:, not to one repository` };
  const spec = parseRepoSpec(source);
  if (spec.kind === "invalid") return { kind: "invalid", reason: `${spec.reason} (selectors: owner/name, owner/*, search:, repos:, topic:)` };
  return { kind: "repo", source, fullName: spec.fullName };
}

/** True when the selector needs GitHub to resolve (anything but an explicit `owner/name`). */
export function needsLookup(raw: string): boolean {
  return parseSelector(raw).kind !== "repo";
}

/** One selector's share of a plan: what GitHub found and what the allowlist kept. */
export type SelectorPlan = { source: string; found: number; repositories: string[]; notes: string[] };

export type Resolution =
  | { kind: "ok"; selectors: SelectorPlan[]; repositories: string[] }
  | { kind: "invalid"; errors: string[]; selectors: SelectorPlan[] };

/**
 * Resolves selectors to repositories: each selector's matches are deduplicated, archived and
 * forked repositories dropped unless included, and intersected with `allowlist` ("any": none
 * set, the operator's own CLI). Explicit `owner/name` entries pass through unchanged (the job
 * validation checks them against the allowlist with its own message). A selector that keeps no
 * repository, or more than `limit`, is an error naming the count (the total is left to
 * validateJobRequest).
 * Returns every error found; throws only when the source fails.
 */
export async function resolveSelectors(
  deps: { source?: TargetSource },
  input: { selectors: readonly string[]; allowlist: readonly AllowPattern[] | "any"; limit: number },
  signal?: AbortSignal,
): Promise<Resolution> {
  const plans: SelectorPlan[] = [];
  const errors: string[] = [];
  const all = new Map<string, string>();
  const allowed = (name: string) => input.allowlist === "any" || matchesAllowlist(name, input.allowlist);
  for (const raw of input.selectors) {
    const sel = parseSelector(raw);
    if (sel.kind === "invalid") {
      errors.push(sel.reason);
      continue;
    }
    if (sel.kind === "repo") {
      plans.push({ source: sel.source, found: 1, repositories: [sel.fullName], notes: [] });
      if (!all.has(sel.fullName.toLowerCase())) all.set(sel.fullName.toLowerCase(), sel.fullName);
      continue;
    }
    if (!deps.source) {
      errors.push(`${sel.source} needs GitHub access to look repositories up: set GITHUB_TOKEN (or a GitHub App)`);
      continue;
    }
    let plan: SelectorPlan;
    try {
      plan = await resolveOne(deps.source, sel, allowed, signal);
    } catch (err) {
      if (!(err instanceof BadQueryError)) throw err;
      errors.push(`${sel.source}: ${err.message}`);
      continue;
    }
    plans.push(plan);
    const n = plan.repositories.length;
    if (n === 0) errors.push(`${sel.source} matches no repository you may change (${plan.found} found${plan.found > 0 ? ", none kept" : ""})`);
    else if (n > input.limit) errors.push(`${sel.source} matches ${n} repositories; a job takes at most ${input.limit}`);
    for (const r of plan.repositories) if (!all.has(r.toLowerCase())) all.set(r.toLowerCase(), r);
  }
  // The total (over the job limit or not) is the job validation's to judge, with its own message.
  const repositories = [...all.values()];
  return errors.length > 0 ? { kind: "invalid", errors, selectors: plans } : { kind: "ok", selectors: plans, repositories };
}

async function resolveOne(
  source: TargetSource,
  sel: Exclude<Selector, { kind: "repo" }>,
  allowed: (name: string) => boolean,
  signal?: AbortSignal,
): Promise<SelectorPlan> {
  const notes: string[] = [];
  let found: RepoInfo[];
  if (sel.kind === "owner") {
    found = await source.listOwner(sel.owner, signal);
  } else {
    // Repository search leaves forks out unless asked for them.
    const answer = sel.kind === "code_search"
      ? await source.searchCode(sel.query, signal)
      : await source.searchRepositories(sel.include.forks && !/\bfork:/i.test(sel.query) ? `${sel.query} fork:true` : sel.query, signal);
    found = answer.repositories;
    if (answer.incomplete) notes.push("GitHub reported incomplete results (the search timed out); some repositories may be missing");
    if (sel.kind === "code_search" && answer.totalCount > 1000) notes.push(`${answer.totalCount} matching files; GitHub returns the first 1000`);
  }
  const unique = new Map<string, RepoInfo>();
  for (const r of found) if (!unique.has(r.fullName.toLowerCase())) unique.set(r.fullName.toLowerCase(), r);
  const kept: string[] = [];
  let archived = 0;
  let forks = 0;
  let refused = 0;
  for (const r of unique.values()) {
    if (r.archived && !sel.include.archived) archived++;
    else if (r.fork && !sel.include.forks) forks++;
    else if (!allowed(r.fullName)) refused++;
    else kept.push(r.fullName);
  }
  if (archived) notes.push(`${archived} archived left out (add include:archived)`);
  if (forks) notes.push(`${forks} fork${forks === 1 ? "" : "s"} left out (add include:forks)`);
  if (refused) notes.push(`${refused} outside ALLOWED_REPOSITORIES`);
  return { source: sel.source, found: unique.size, repositories: kept, notes };
}

/** The plan as people read it: the total, then each selector with its count, notes and names. */
export function formatPlan(plan: { selectors: readonly SelectorPlan[]; repositories: readonly string[] }, maxNames = Infinity): string {
  const lines = [`${plan.repositories.length} repositor${plan.repositories.length === 1 ? "y" : "ies"} match:`];
  for (const s of plan.selectors) {
    lines.push(`  ${s.source} → ${s.repositories.length}${s.found !== s.repositories.length ? ` of ${s.found} found` : ""}${s.notes.length ? ` (${s.notes.join("; ")})` : ""}`);
    const shown = s.repositories.slice(0, maxNames);
    for (const r of shown) lines.push(`    ${r}`);
    if (s.repositories.length > shown.length) lines.push(`    … and ${s.repositories.length - shown.length} more`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Splits what a person typed into selectors: one per line; a `search:`, `repos:` or `topic:`
 * line is kept whole (its query may hold commas and spaces); other lines may list several
 * names separated by commas or spaces, an `include:…` word belonging to the name before it.
 */
export function splitSelectors(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
    if (/^(search|repos|topic)\s*:/i.test(line)) {
      out.push(line);
      continue;
    }
    for (const word of line.split(/[,\s]+/).filter(Boolean)) {
      if (/^include:/i.test(word) && out.length > 0) out[out.length - 1] += ` ${word}`;
      else out.push(word);
    }
  }
  return out;
}
