import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canMoveJob, canMoveRepo, finalJobStatus, JOB_STATUSES, JOB_TRANSITIONS, REPO_STATUSES, REPO_TRANSITIONS } from "./job.ts";
import { LIMITS, validateJobRequest, type JobRequest } from "./job-request.ts";
import { parseAllowlist, type AllowPattern } from "../config/index.ts";

const legalJob = new Set(Object.entries(JOB_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`)));
const legalRepo = new Set(Object.entries(REPO_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`)));

describe("job state machine", () => {
  const cases = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => ({ from, to, legal: legalJob.has(`${from}>${to}`) })));
  it.for(cases)("$from → $to is legal: $legal", ({ from, to, legal }) => {
    expect(canMoveJob(from, to)).toBe(legal);
  });

  it("allows exactly the designed transitions", () => {
    expect([...legalJob].sort()).toEqual(
      [
        "PENDING>RUNNING",
        "PENDING>COMPLETED",
        "PENDING>FAILED",
        "PENDING>CANCELLED",
        "RUNNING>COMPLETED",
        "RUNNING>FAILED",
        "RUNNING>CANCELLED",
      ].sort(),
    );
  });

  it.for([
    { counters: { total: 3, completed: 2, noChanges: 1, failed: 0, cancelled: 0 }, cancelled: false, want: "COMPLETED" },
    { counters: { total: 3, completed: 1, noChanges: 1, failed: 1, cancelled: 0 }, cancelled: false, want: "FAILED" },
    { counters: { total: 3, completed: 1, noChanges: 0, failed: 1, cancelled: 1 }, cancelled: true, want: "CANCELLED" },
  ] as const)("ends as $want", ({ counters, cancelled, want }) => {
    expect(finalJobStatus(counters, cancelled)).toBe(want);
  });
});

describe("repository state machine", () => {
  const cases = REPO_STATUSES.flatMap((from) => REPO_STATUSES.map((to) => ({ from, to, legal: legalRepo.has(`${from}>${to}`) })));
  it.for(cases)("$from → $to is legal: $legal", ({ from, to, legal }) => {
    expect(canMoveRepo(from, to)).toBe(legal);
  });

  it("never moves a terminal status", () => {
    for (const from of ["COMPLETED", "NO_CHANGES", "FAILED", "CANCELLED"] as const) {
      for (const to of REPO_STATUSES) expect(canMoveRepo(from, to)).toBe(false);
    }
  });

  it("follows PENDING → CLONING → RUNNING → PUSHING → COMPLETED", () => {
    expect(canMoveRepo("PENDING", "CLONING") && canMoveRepo("CLONING", "RUNNING") && canMoveRepo("RUNNING", "PUSHING") && canMoveRepo("PUSHING", "COMPLETED")).toBe(true);
    expect(canMoveRepo("PENDING", "RUNNING")).toBe(false);
    expect(canMoveRepo("CLONING", "PUSHING")).toBe(false);
  });
});

function allow(value: string): AllowPattern[] {
  const p = parseAllowlist(value);
  if (p.kind !== "ok") throw new Error(p.reason);
  return p.patterns;
}

const base: JobRequest = { type: "script", script: "true", repositories: ["acme/billing"], createdBy: "U1" };

describe("job request validation", () => {
  it.for([
    { name: "accepts an allowed repository", repos: ["acme/billing"], allowlist: "acme/*", want: ["acme/billing"] },
    { name: "accepts the github.com/ prefix", repos: ["github.com/acme/billing"], allowlist: "acme/*", want: ["acme/billing"] },
    { name: "matches case-insensitively", repos: ["ACME/Billing"], allowlist: "github.com/acme/*", want: ["ACME/Billing"] },
    { name: "drops duplicates", repos: ["acme/a", "Acme/A", "acme/b"], allowlist: "acme/*", want: ["acme/a", "acme/b"] },
    { name: "accepts an exact pattern", repos: ["tools/cli"], allowlist: "acme/*, tools/cli", want: ["tools/cli"] },
  ])("$name", ({ repos, allowlist, want }) => {
    const r = validateJobRequest({ ...base, repositories: repos }, allow(allowlist));
    expect(r.kind).toBe("ok");
    if (r.kind === "ok") expect(r.request.repositories).toEqual(want);
  });

  it.for([
    { name: "rejects a repository outside the allowlist", req: { repositories: ["acme2/x"] }, field: "repositories", text: "acme2/x is not in the allowed repositories (acme/*)" },
    { name: "rejects an exact pattern's neighbour", req: { repositories: ["tools/cli2"] }, allowlist: "tools/cli", field: "repositories", text: "not in the allowed" },
    { name: "rejects an empty repository list", req: { repositories: [] }, field: "repositories", text: "at least one repository" },
    { name: "rejects a URL", req: { repositories: ["https://github.com/acme/x"] }, field: "repositories", text: "is a URL" },
    { name: "rejects ..", req: { repositories: ["acme/.."] }, field: "repositories", text: '".."' },
    { name: "rejects a path", req: { repositories: ["acme/x/y"] }, field: "repositories", text: "owner/name" },
    { name: "rejects a script job without a script", req: { script: "  " }, field: "script", text: "needs a script" },
    { name: "rejects a Claude job without instructions", req: { type: "code-pattern-update" as const, script: undefined }, field: "prompt", text: "needs instructions" },
    { name: "rejects a long name", req: { name: "n".repeat(LIMITS.nameChars + 1) }, field: "name", text: "at most" },
    { name: "rejects a long script", req: { script: "x".repeat(LIMITS.scriptChars + 1) }, field: "script", text: "at most" },
    { name: "rejects a bad base branch", req: { baseBranch: "main..x" }, field: "baseBranch", text: "not a valid branch" },
    { name: "rejects 1001 repositories", req: { repositories: Array.from({ length: 1001 }, (_, i) => `acme/r${i}`) }, field: "repositories", text: "at most 1000" },
  ])("$name", ({ req, field, text, allowlist }) => {
    const r = validateJobRequest({ ...base, ...req } as JobRequest, allow(allowlist ?? "acme/*"));
    expect(r.kind).toBe("invalid");
    if (r.kind === "invalid") {
      const e = r.errors.find((x) => x.field === field);
      expect(e?.message).toContain(text);
    }
  });

  it("accepts exactly 1000 repositories", () => {
    const r = validateJobRequest({ ...base, repositories: Array.from({ length: 1000 }, (_, i) => `acme/r${i}`) }, allow("acme/*"));
    expect(r.kind).toBe("ok");
  });

  it("refuses a bare * in the allowlist", () => {
    expect(parseAllowlist("*").kind).toBe("invalid");
  });
});

describe("properties", () => {
  const owner = fc.stringMatching(/^[a-z0-9]{1,10}(-[a-z0-9]{1,5})?$/);
  const name = fc.stringMatching(/^[a-z0-9_-][a-z0-9._-]{0,15}$/).filter((n) => !n.includes(".."));

  it("never accepts a name outside the patterns", () => {
    fc.assert(
      fc.property(fc.array(owner, { minLength: 1, maxLength: 4 }), owner, name, (allowedOwners, o, n) => {
        const r = validateJobRequest({ ...base, repositories: [`${o}/${n}`] }, allow(allowedOwners.map((a) => `${a}/*`).join(",")));
        const inside = allowedOwners.includes(o);
        expect(r.kind === "ok").toBe(inside);
      }),
      { numRuns: 300 },
    );
  });

  const hostile = fc.oneof(
    fc.tuple(owner, name).map(([o, n]) => `${o}/${n}/..`),
    fc.tuple(owner, name).map(([o, n]) => `${o}/../${n}`),
    fc.tuple(owner, name).map(([o, n]) => `${o}/${n}..x`),
    fc.tuple(owner, name, name).map(([o, n, m]) => `${o}/${n}/${m}`),
    fc.tuple(owner, name, fc.constantFrom(" ", "\t", "\n", "\u000b")).map(([o, n, ws]) => `${o}/${n.slice(0, 1)}${ws}${n}`),
    fc.tuple(owner, name, fc.integer({ min: 0, max: 31 })).map(([o, n, c]) => `${o}/${n}${String.fromCharCode(c)}`),
    fc.tuple(owner, name, fc.constantFrom("https://", "http://", "ssh://", "git://", "file://", "git@github.com:")).map(
      ([o, n, scheme]) => `${scheme}${scheme.endsWith(":") ? "" : "github.com/"}${o}/${n}`,
    ),
  );

  it("never accepts .., extra path segments, whitespace, control characters or URLs", () => {
    fc.assert(
      fc.property(hostile, (spec) => {
        // Allow the owner the spec names, so only the spec's own shape can refuse it.
        const specOwner = /([a-z0-9-]+)\//.exec(spec.replace(/^[a-z+]+:\/\/github\.com\/|^git@github\.com:/, ""))?.[1] ?? "a";
        const r = validateJobRequest({ ...base, repositories: [spec] }, allow(`${specOwner}/*`));
        expect(r.kind).toBe("invalid");
        const any = validateJobRequest({ ...base, repositories: [spec] }, "any");
        expect(any.kind).toBe("invalid");
      }),
      { numRuns: 500 },
    );
  });
});
