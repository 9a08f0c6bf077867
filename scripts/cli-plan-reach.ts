/**
 * `cody run --plan` asks whether each repository named outright (not found through a selector,
 * which GitHub answered already) can be reached: `git ls-remote` on the URL a runner would clone,
 * with the token (if any) in the git process's environment as the runner sends it, never in
 * argv or the URL. Loaded only by `--plan`.
 */
import { execFile } from "node:child_process";
import type { Config } from "../core/config/index.ts";
import { needsLookup, type SelectorPlan } from "../core/github/index.ts";

/** A repository that could not be reached, with the URL tried and git's first line. */
export type Unreachable = { repository: string; url: string; reason: string };

/** The repositories of `selectors` named outright (no `*`, no search), deduplicated. */
export function namedRepositories(selectors: readonly SelectorPlan[]): string[] {
  return [...new Set(selectors.filter((s) => !s.source.includes("*") && !needsLookup(s.source)).flatMap((s) => s.repositories))];
}

/** Checks `repositories` (8 at a time, 20 s each); returns those that cannot be reached. */
export async function unreachableRepositories(repositories: readonly string[], config: Pick<Config, "gitBaseUrl" | "github">, signal?: AbortSignal): Promise<Unreachable[]> {
  const out: Unreachable[] = [];
  const queue = [...repositories];
  const worker = async () => {
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
      const url = `${config.gitBaseUrl}/${r}.git`;
      const reason = await lsRemote(url, /^https?:\/\//.test(url) ? config.github.token : undefined, signal);
      if (reason !== undefined) out.push({ repository: r, url, reason });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, repositories.length) }, worker));
  return out.sort((a, b) => repositories.indexOf(a.repository) - repositories.indexOf(b.repository));
}

/** Undefined when `git ls-remote` answers, else a short reason. */
function lsRemote(url: string, token: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true" };
  if (token) {
    Object.assign(env, {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraheader",
      GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`,
    });
  }
  return new Promise((resolve) => {
    execFile("git", ["ls-remote", "--heads", "--", url, "refs/heads/__cody_plan_probe__"], { env, timeout: 20_000, ...(signal ? { signal } : {}) }, (err, _out, stderr) => {
      if (!err) return resolve(undefined);
      const line = String(stderr).split("\n").map((l) => l.replace(/^fatal:\s*/, "").trim()).find(Boolean);
      resolve(/not found|does not appear|does not exist/i.test(line ?? "") ? "not found" : /authentication|could not read username|403/i.test(line ?? "") ? "no read access" : (line ?? "no answer").slice(0, 200));
    });
  });
}

/** The lines `--plan` prints for unreachable repositories (empty when all answered). */
export function formatUnreachable(list: readonly Unreachable[], hasToken: boolean): string {
  if (list.length === 0) return "";
  const hint = hasToken ? "" : " (no GITHUB_TOKEN set: private repositories need one)";
  return `${list.length} cannot be reached${hint}:\n${list.map((u) => `  ${u.repository}: ${u.reason} at ${u.url}`).join("\n")}\n`;
}

/** The named repositories of a plan checked: `list` the unreachable ones, `print` their lines (not with `json`: they are in the JSON). */
export async function planReach(selectors: readonly SelectorPlan[], config: Pick<Config, "gitBaseUrl" | "github">, json: boolean): Promise<{ list: Unreachable[]; print(): void }> {
  const list = await unreachableRepositories(namedRepositories(selectors), config);
  return { list, print: () => void (json || process.stdout.write(formatUnreachable(list, Boolean(config.github.token || config.github.app)))) };
}
