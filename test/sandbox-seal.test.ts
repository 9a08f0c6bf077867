/**
 * Issue 18, the sealed sandbox: each finding of the review as a hostile repository's script
 * would do it, through the real sandbox (`runCommand` with a `Sandbox`, as run-repo uses it) and
 * the real embedded stack over HTTP. Each asserts what the victim would observe: its checkout
 * holds only its own change, no process of the attacker is left, the stack answered nothing
 * and nothing changed in it, nothing the attacker left behind survives its command.
 * Switching users needs root (CI runs as root): when not root these tests FAIL, they do not skip.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { loadConfig } from "../core/config/index.ts";
import { newArtifacts, newDynamoClient, newJobRows, newStore, s3ClientOptions, type JobRequest } from "../core/jobs/index.ts";
import { runCommand } from "../runner/command.ts";
import { newSandbox, newSandbox as newSandboxAt } from "../runner/sandbox.ts";
import { EmbeddedStack } from "../environment/embedded-stack.ts";

const FIRST = 62100;
let base: string;
const token = `seal${process.pid}x${Date.now() % 100000}`;

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to switch users (CI runs as root); it fails rather than passing silently");
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "cody-seal-test-"));
  chmodSync(base, 0o711);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A repository directory as run-repo makes it: a 0710 gate with the checkout and HOME inside. */
function repoDir(name: string, files: Record<string, string> = {}): { gate: string; repo: string; home: string } {
  return repoDirAt(name, files);
}

function repoDirAt(name: string, files: Record<string, string> = {}): { gate: string; repo: string; home: string } {
  const gate = join(base, name);
  mkdirSync(join(gate, "repo"), { recursive: true });
  chmodSync(gate, 0o710);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(gate, "repo", f), text);
  return { gate, repo: join(gate, "repo"), home: join(gate, "home") };
}

const run = (sandbox: ReturnType<typeof newSandboxAt>, d: { gate: string; repo: string; home: string }, command: string, extraEnv: Record<string, string> = {}) =>
  runCommand(command, { cwd: d.repo, env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: d.home, ...extraEnv }, timeoutSeconds: 60, sandbox, gate: d.gate });

/** Every process (zombie leaders whose threads still run included) whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const tasks = readdirSync(`/proc/${name}/task`);
      const cmd = tasks.map((t) => readFileSync(`/proc/${name}/task/${t}/cmdline`, "utf8")).join(" ");
      const status = readFileSync(`/proc/${name}/status`, "utf8");
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? "1");
      if (cmd.includes(marker) && (state !== "Z" || threads > 1)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** A program that outlives a sweep of /proc: setsid, stdio closed, only its main thread exits (SYS_exit). */
const SURVIVOR = `
import ctypes, os, platform, sys, threading, time
target = sys.argv[2]
if os.fork() != 0:
    sys.exit(0)
os.setsid()
if os.fork() != 0:
    os._exit(0)
for fd in (0, 1, 2):
    os.close(fd)
def tamper():
    while True:
        try:
            with open(target, "a") as f:
                f.write("pwned by the survivor\\n")
        except OSError:
            pass
        time.sleep(0.05)
threading.Thread(target=tamper).start()
time.sleep(0.3)
ctypes.CDLL(None).syscall(60 if platform.machine() == "x86_64" else 93, 0)
`;

describe("the sealed sandbox (issue 18; needs root: fails, does not skip, when not root)", () => {
  it("as root: this machine gives commands the strongest level, namespaces (never silently weaker)", async () => {
    requireRoot();
    const lines: string[] = [];
    const sandbox = newSandbox({ firstUid: FIRST + 8, count: 1, lockDir: join(base, "locks-level"), report: (line) => lines.push(line) });
    const r = await run(sandbox, repoDir("level"), "grep -E '^NoNewPrivs' /proc/self/status; ls /proc | grep -cE '^[0-9]+$'");
    expect((await sandbox.isolation())?.kind, lines.join("\n")).toBe("namespaces");
    expect(lines).toHaveLength(1);
    expect(r.output).toMatch(/^NoNewPrivs:\s+1$/m);
    // Its /proc shows only its own namespace: the init, the shell, ls, grep.
    expect(Number(r.output.trim().split("\n").pop())).toBeLessThan(8);
  });
});

// Each finding at the level this machine gives (namespaces) and at the fallback used where the
// kernel refuses namespaces (AWS Fargate): no_new_privs, the sweep and the clean-up.
describe.each(["namespaces", "no-new-privs"] as const)("the sealed sandbox at level %s (issue 18; needs root: fails, does not skip, when not root)", (level) => {
  const FIRST_AT = level === "namespaces" ? FIRST : FIRST + 10;
  const newSandbox = (s: Parameters<typeof newSandboxAt>[0]) => newSandboxAt({ ...s, firstUid: s.firstUid - FIRST + FIRST_AT, lockDir: `${s.lockDir}-${level}`, ...(level === "namespaces" ? {} : { forceIsolation: level }) });
  const repoDir = (name: string, files: Record<string, string> = {}) => repoDirAt(`${name}-${level}`, files);
  it("as root: a zombie-leader survivor (setsid, stdio closed, main thread SYS_exit) dies with its command and never edits the next job's checkout under the same uid", async () => {
    requireRoot();
    // One uid: the later job gets the attacker's uid, as the 3rd job does with 16 uids.
    const sandbox = newSandbox({ firstUid: FIRST, count: 1, lockDir: join(base, "locks-zombie"), waitMs: 20_000 });
    const attacker = repoDir("zombie-attacker");
    const victim = repoDir("zombie-victim", { "file.txt": "base\n" });
    const marker = `${token}-survivor-${level}`;
    // The command ends only once the survivor's leader is a zombie whose thread works on.
    const first = await run(sandbox, attacker, `python3 -c '${SURVIVOR}' ${marker} ${victim.repo}/file.txt; sleep 1; echo started`);
    expect(first).toMatchObject({ kind: "exited", code: 0 });
    expect(processesWith(marker)).toEqual([]);
    const later = await run(sandbox, victim, "printf 'mine\\n' > file.txt; sleep 1.5; cat file.txt");
    expect(later).toMatchObject({ kind: "exited", code: 0 });
    expect(later.output).toBe("mine\n");
    expect(readFileSync(join(victim.repo, "file.txt"), "utf8")).toBe("mine\n");
    expect(processesWith(marker)).toEqual([]);
  });

  it("as root: a setuid program left in /run/lock by one uid gives a later command of another uid nothing, and is gone with its command", async () => {
    requireRoot();
    const sandbox = newSandbox({ firstUid: FIRST + 2, count: 2, lockDir: join(base, "locks-suid"), waitMs: 20_000 });
    const name = `${token}-suid-${level}`;
    const planted = `/run/lock/${name}`;
    // The attacker plants a setuid copy of python3 and keeps its uid busy (as if serving a victim's job).
    const attacker = run(sandbox, repoDir("suid-attacker"), `id -u; cp "$(readlink -f "$(command -v python3)")" ${planted} && chmod 6755 ${planted} && echo planted; sleep 2.5`);
    await new Promise((r) => setTimeout(r, 1200));
    const later = await run(sandbox, repoDir("suid-later"), `id -u; ${planted} -c 'import os; print("euid", os.geteuid())' 2>&1; true`);
    const a = await attacker;
    expect(a.output).toContain("planted");
    const attackerUid = a.output.trim().split("\n")[0]!;
    const laterUid = later.output.trim().split("\n")[0]!;
    expect(laterUid).not.toBe(attackerUid);
    expect(later.output).not.toContain(`euid ${attackerUid}`);
    expect(existsSync(planted)).toBe(false);
  });

  it("as root: leftovers in every world-writable directory (nested ones included) are gone once the command ends", async () => {
    requireRoot();
    const sandbox = newSandbox({ firstUid: FIRST + 4, count: 1, lockDir: join(base, "locks-left"), waitMs: 20_000 });
    // A world-writable directory nested below /tmp (root's, as /tmp/.X11-unix is).
    const nested = join(tmpdir(), `${token}-${level}-ww`);
    mkdirSync(nested, { recursive: true });
    chmodSync(nested, 0o1777);
    try {
      const found = execFileSync("find", ["/", "-xdev", "-maxdepth", "3", "(", "-path", "/proc", "-o", "-path", "/sys", "-o", "-path", "/work", "-o", "-path", "/tmp/*", ")", "-prune", "-o", "-type", "d", "-perm", "-0002", "-print"], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
      const dirs = [...new Set([...found, "/tmp", "/var/tmp", "/dev/shm", "/run/lock", nested].filter((d) => existsSync(d)))];
      expect(dirs).toEqual(expect.arrayContaining(["/tmp", "/var/tmp", "/dev/shm", nested]));
      const leave = dirs.map((d) => `echo left > '${d}/${token}-file' 2>/dev/null; mkdir -p '${d}/${token}-dir/deeper' 2>/dev/null && echo left > '${d}/${token}-dir/deeper/f'`).join("; ");
      const r = await run(sandbox, repoDir("leftovers"), `${leave}; ls -d /tmp/${token}-* | head -1`);
      // It could write there while it ran …
      expect(r.output).toContain(`/tmp/${token}-`);
      // … and nothing of it is left in any of them.
      for (const d of dirs) expect(readdirSync(d).filter((n) => n.startsWith(`${token}-f`) || n.startsWith(`${token}-d`)), d).toEqual([]);
    } finally {
      rmSync(nested, { recursive: true, force: true });
    }
  });

});

describe("the embedded stack against a sandboxed script (issue 18; needs root: fails, does not skip, when not root)", () => {
  it("as root: a script that finds the embedded stack in /proc/net/tcp and calls its DynamoDB and S3 APIs with public and guessed credentials gets 403 and changes nothing", async () => {
    requireRoot();
    const stack = await EmbeddedStack.start({ inMemory: true });
    try {
      const config = loadConfig({ ...process.env, ...stack.env });
      const dynamo = newDynamoClient(config);
      const store = newStore(config, dynamo);
      const artifacts = newArtifacts(config);
      const secret = `SECRET-PROMPT-${token}`;
      const rows = newJobRows(`j-${token}`, { name: "victim", type: "code-pattern-update", prompt: secret, repositories: ["acme/one"], createdBy: "U1" } as JobRequest & { name: string }, new Date());
      await store.createJob(rows.job, rows.repos);
      await artifacts.put(`diffs/j-${token}/acme/one.diff`, `diff holding ${secret}`, "text/plain");
      const ports = [stack.env.DYNAMODB_ENDPOINT, stack.env.S3_ENDPOINT].map((u) => Number(new URL(u).port));
      const r = await run(newSandbox({ firstUid: FIRST + 6, count: 1, lockDir: join(base, "locks-stack"), waitMs: 20_000 }), repoDir("stack-attacker"), `python3 -c '${ATTACK}'`, {
        STACK_PORTS: ports.join(","),
        JOBS_TABLE: config.jobsTable,
        BUCKET: config.artifactsBucket,
        KEY: `diffs/j-${token}/acme/one.diff`,
      });
      expect(r.kind).toBe("exited");
      // The scan found both ports …
      expect(r.output).toContain(`FOUND ${ports.sort((a, b) => a - b).join(",")}`);
      // … every request was refused, and no answer held anything of the stack.
      const results = r.output.split("\n").filter((l) => l.startsWith("RESULT "));
      expect(results.length).toBeGreaterThan(40);
      for (const line of results) expect(line, line).toMatch(/^RESULT \S+ \S+ \S+ (403|ERR) /);
      expect(r.output).not.toContain(secret);
      expect(r.output).not.toContain("ListBucketResult");
      // Nothing changed: the job, its diff, no planted object or row.
      expect((await store.getJob(`j-${token}`))?.prompt).toBe(secret);
      expect(await artifacts.get(`diffs/j-${token}/acme/one.diff`)).toBe(`diff holding ${secret}`);
      expect(await artifacts.get("planted.txt")).toBeUndefined();
      expect(await store.getJob("planted")).toBeUndefined();
      // The owner's own presigned link still works; the same link with another signature does not.
      const link = await artifacts.link(`diffs/j-${token}/acme/one.diff`, 600);
      expect(await (await fetch(link)).text()).toBe(`diff holding ${secret}`);
      const forged = link.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${"0".repeat(64)}`);
      expect((await fetch(forged)).status).toBe(403);
      // And a client with the wrong credentials is refused like the script was.
      const wrong = new S3Client({ ...s3ClientOptions(config), credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
      await expect(wrong.send(new PutObjectCommand({ Bucket: config.artifactsBucket, Key: "planted.txt", Body: "x" }))).rejects.toThrow();
      wrong.destroy();
      dynamo.destroy();
    } finally {
      await stack.stop();
    }
  });
});

/** The hostile script of the stack test: scan /proc/net/tcp, then sign requests with every credential it can guess. */
const ATTACK = `
import datetime, hashlib, hmac, json, os, urllib.error, urllib.request
listening = set()
for line in open("/proc/net/tcp").read().splitlines()[1:]:
    f = line.split()
    if f[3] == "0A" and f[1].startswith("0100007F:"):
        listening.add(int(f[1].split(":")[1], 16))
targets = sorted(p for p in (int(x) for x in os.environ["STACK_PORTS"].split(",")) if p in listening)
print("FOUND " + ",".join(str(p) for p in targets))
creds = [("local", "local"), ("S3RVER", "S3RVER"), ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), ("test", "test"), ("dummy", "dummy"), (None, None)]
T, B, K = os.environ["JOBS_TABLE"], os.environ["BUCKET"], os.environ["KEY"]
def call(port, method, path, headers, body, ak, sk, service, query=""):
    host = "127.0.0.1:%d" % port
    h = {k.lower(): v for k, v in headers.items()}
    if ak:
        amz = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        day = amz[:8]
        ph = hashlib.sha256(body).hexdigest()
        h.update({"host": host, "x-amz-date": amz, "x-amz-content-sha256": ph})
        names = sorted(h)
        canon = "\\n".join([method, path, query, "".join("%s:%s\\n" % (n, h[n]) for n in names), ";".join(names), ph])
        scope = "%s/us-east-1/%s/aws4_request" % (day, service)
        sts = "\\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canon.encode()).hexdigest()])
        k = ("AWS4" + sk).encode()
        for p in (day, "us-east-1", service, "aws4_request"):
            k = hmac.new(k, p.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        h["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (ak, scope, ";".join(names), sig)
    url = "http://%s%s%s" % (host, path, "?" + query if query else "")
    req = urllib.request.Request(url, data=body if method in ("POST", "PUT") else None, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()[:3000]
    except urllib.error.HTTPError as e:
        return e.code, e.read()[:3000]
    except Exception as e:
        return "ERR", str(e).encode()
for port in targets:
    for ak, sk in creds:
        for target, body in [("ListTables", {}), ("Scan", {"TableName": T}), ("GetItem", {"TableName": T, "Key": {"jobId": {"S": "x"}}}), ("PutItem", {"TableName": T, "Item": {"jobId": {"S": "planted"}}})]:
            st, out = call(port, "POST", "/", {"content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810." + target}, json.dumps(body).encode(), ak, sk, "dynamodb")
            print("RESULT", port, ak, target, st, out.decode("utf8", "replace").replace("\\n", " "))
        for method, path, body in [("GET", "/", b""), ("GET", "/" + B, b""), ("GET", "/%s/%s" % (B, K), b""), ("PUT", "/%s/planted.txt" % B, b"planted")]:
            st, out = call(port, method, path, {}, body, ak, sk, "s3")
            print("RESULT", port, ak, method + path.replace(" ", "_"), st, out.decode("utf8", "replace").replace("\\n", " "))
        if ak:
            day = datetime.datetime.utcnow().strftime("%Y%m%d")
            q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s%%2F%s%%2Fus-east-1%%2Fs3%%2Faws4_request&X-Amz-Date=%sT000000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=%s" % (ak, day, day, "0" * 64)
            st, out = call(port, "GET", "/%s/%s" % (B, K), {}, b"", None, None, "s3", q)
            print("RESULT", port, ak, "presigned", st, out.decode("utf8", "replace").replace("\\n", " "))
`;
