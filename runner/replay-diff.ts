/**
 * `cody publish` of a preview job: the next attempt of a row flagged `replayDiff` applies the diff
 * the preview stored in S3 to a fresh checkout of the base instead of running the script or
 * Claude again; commit, push and the pull request then go as in any run.
 *
 * Why the stored diff and not a pushed branch: a job run without pull requests never pushes
 * (run-repo.ts returns before publishing), so the diff in S3 is the only thing it leaves.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Artifacts } from "../core/jobs/index.ts";
import type { RepoRow } from "../core/jobs/index.ts";

/** What replaying a stored diff came to. */
export type ReplayOutcome = { kind: "applied" } | { kind: "failed"; reason: string };

/**
 * Applies the row's stored diff (`diffKey`) to the working tree at `checkout` with `git apply`.
 * `failed` with a reason for people when the diff is gone (retention), holds binary changes the
 * text diff cannot carry, or no longer applies to the base (it moved). Never runs the change.
 */
export async function replayStoredDiff(
  deps: { artifacts: Pick<Artifacts, "get"> },
  input: { row: Pick<RepoRow, "diffKey">; checkout: string; home: string; base: string; env: NodeJS.ProcessEnv },
  signal: AbortSignal,
): Promise<ReplayOutcome> {
  const patch = input.row.diffKey ? await deps.artifacts.get(input.row.diffKey, signal) : undefined;
  if (!patch) return { kind: "failed", reason: "the preview's stored diff is gone (kept 30 days); run the job again with pull requests" };
  if (/^Binary files .* differ$/m.test(patch)) return { kind: "failed", reason: "the preview's diff has binary changes, which a stored diff cannot carry; run the job again with pull requests" };
  const file = join(input.home, "replay.diff");
  await writeFile(file, patch.endsWith("\n") ? patch : `${patch}\n`);
  const applied = await new Promise<{ ok: boolean; stderr: string }>((resolve) => {
    execFile("git", ["apply", "--whitespace=nowarn", file], { cwd: input.checkout, env: input.env, signal, timeout: 120_000 }, (err, _out, stderr) =>
      resolve({ ok: !err, stderr: String(stderr ?? "") }),
    );
  });
  signal.throwIfAborted();
  if (!applied.ok) {
    const first = applied.stderr.split("\n").find((l) => l.startsWith("error:"))?.slice(0, 200) ?? "";
    return { kind: "failed", reason: `the preview's diff no longer applies to ${input.base} (it moved since the preview${first ? `: ${first}` : ""}); run the job again` };
  }
  return { kind: "applied" };
}
