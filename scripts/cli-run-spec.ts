/**
 * The parts of `cody run` that deal with targets and spec files, loaded lazily by scripts/cody.ts:
 * `-f change.yaml` (a change spec, core/spec/change-spec.ts), selector resolution (core/github/selectors.ts:
 * `owner/*`, `search:`, `repos:`, `topic:`, always intersected with ALLOWED_REPOSITORIES) and
 * `--plan` (the blast radius: what would run, and nothing runs).
 */
import { readFileSync, statSync } from "node:fs";
import type { Config } from "../core/config/index.ts";
import { formatSpecErrors, MAX_SPEC_BYTES, parseChangeSpec, tooBig } from "../core/spec/index.ts";
import { LIMITS, newJobRows, type JobRequest } from "../core/jobs/index.ts";
import { formatPlan, needsLookup, resolveSelectors, type SelectorPlan } from "../core/github/index.ts";

/** Flags that describe the change; with `-f` they belong in the spec file. */
const CHANGE_FLAGS = ["repo", "prompt", "script", "name", "pr", "draft", "base", "verify", "label", "reviewer", "team-reviewer", "assignee", "pr-interval", "branch", "on-conflict", "allow-no-checks"] as const;

export type Outcome<T> = { kind: "ok" } & T | { kind: "invalid"; message: string };

/**
 * Reads a change spec file into a job request whose `repositories` are the spec's selectors
 * (resolved later by {@link resolveTargets}). `invalid` — printed, exit 2 — when the file cannot
 * be read, a change flag is given as well, or the spec is wrong (`file:line: field: message`).
 */
export function requestFromSpecFile(file: string, flags: Record<string, unknown>, createdBy: string): Outcome<{ request: JobRequest }> {
  const mixed = CHANGE_FLAGS.filter((f) => flags[f] !== undefined);
  if (mixed.length > 0) return { kind: "invalid", message: `with -f, put ${mixed.map((f) => `--${f}`).join(", ")} in the spec file instead` };
  let text: string;
  try {
    // A spec is small: a huge file is refused before it is read.
    const size = statSync(file).size;
    if (size > MAX_SPEC_BYTES) return { kind: "invalid", message: `${file}: ${tooBig(size)}` };
    text = readFileSync(file, "utf8");
  } catch (err) {
    return { kind: "invalid", message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const parsed = parseChangeSpec(text);
  if (parsed.kind === "invalid") return { kind: "invalid", message: formatSpecErrors(file, parsed.errors) };
  return { kind: "ok", request: { ...parsed.request, repositories: parsed.selectors, createdBy } };
}

/**
 * Resolves `--repo` values / spec selectors to repositories. GitHub is asked only when a
 * selector needs it (the client is loaded then). `invalid` with every selector error.
 * Throws when GitHub fails (outage, credentials).
 */
export async function resolveTargets(
  selectors: readonly string[],
  config: Config,
  signal?: AbortSignal,
): Promise<Outcome<{ repositories: string[]; selectors: SelectorPlan[] }>> {
  const hasGitHub = Boolean(config.github.token || config.github.app || config.github.apiUrl);
  let source;
  if (hasGitHub && selectors.some(needsLookup)) {
    const [{ newGitHub }, { newGitHubTargets }] = await Promise.all([import("../core/github/github.ts"), import("../core/github/github-search.ts")]);
    const owner = selectors.map((s) => /^([A-Za-z0-9-]+)\/\*/.exec(s)?.[1]).find(Boolean);
    source = newGitHubTargets(newGitHub(config, owner ? { repository: `${owner}/*` } : {}).octokit);
  }
  const r = await resolveSelectors(
    source ? { source } : {},
    { selectors, allowlist: config.allowlist.length > 0 ? config.allowlist : "any", limit: LIMITS.maxRepositories },
    signal,
  );
  if (r.kind === "invalid") return { kind: "invalid", message: r.errors.join("\n") };
  return { kind: "ok", repositories: r.repositories, selectors: r.selectors };
}

/**
 * Prints the plan of `cody run --plan`: per selector, what matched after the allowlist, and the
 * job that would be created (JSON with `--json`). Writes nothing anywhere else.
 */
export function printPlan(plan: { selectors: SelectorPlan[] }, request: JobRequest & { name: string }, json: boolean, unreachable: readonly unknown[] = []): void {
  if (json) {
    // The job exactly as `run` would store it, minus what only exists once it runs.
    const { job } = newJobRows("j-plan", request, new Date(0));
    const { jobId: _id, createdAt: _c, updatedAt: _u, expiresAt: _e, status: _s, counters: _n, totals: _t, ...wouldRun } = job;
    process.stdout.write(`${JSON.stringify({ selectors: plan.selectors, job: wouldRun, ...(unreachable.length ? { unreachable } : {}) }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`plan for "${request.name}" (${request.type === "script" ? "script" : "Claude"}${request.createPullRequests ? ", pull requests" : ""}); nothing runs\n`);
  process.stdout.write(formatPlan({ selectors: plan.selectors, repositories: request.repositories }));
}

/**
 * Repositories named more than once among `selectors` (plain `owner/name` entries, any case),
 * first spelling, once each: the run warns "o/a given twice" and runs them once.
 */
export function givenTwice(selectors: readonly string[]): string[] {
  const seen = new Map<string, string>();
  const twice: string[] = [];
  for (const raw of selectors) {
    const name = raw.trim();
    if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(name)) continue;
    const key = name.toLowerCase();
    if (seen.has(key)) {
      if (!twice.includes(seen.get(key)!)) twice.push(seen.get(key)!);
    } else seen.set(key, name);
  }
  return twice;
}

/**
 * One line for a GitHub that did not answer while selectors were expanded: the URL asked (no
 * credentials: Octokit's request URL carries none) and the network's or GitHub's answer.
 */
export function unreachableGitHub(err: unknown, config: Pick<Config, "github">): string {
  const e = err as { status?: number; message?: string; request?: { url?: string }; cause?: { code?: string; cause?: { code?: string } } };
  const url = (e.request?.url ?? config.github.apiUrl ?? "https://api.github.com").replace(/[?#].*$/, "");
  const why = e.status ? `HTTP ${e.status}` : (e.cause?.code ?? e.cause?.cause?.code ?? e.message ?? "no answer");
  return `cannot reach GitHub at ${url} (${why}) to expand the selectors; check GITHUB_API_URL, GITHUB_TOKEN and the network`;
}
