/**
 * Failing checks as healing reads them (issue 19): the first error line, the agent's context, and
 * which failures are systematic (≥ 30 % and ≥ 3 of a job's PRs).
 */
import { describe, expect, it } from "vitest";
import { failureContext, firstErrorLine, systematicFailures, type CheckFailure } from "./check-output.ts";

const run = (check: string, fields: Partial<CheckFailure>): CheckFailure => ({ check, source: "check_run", annotations: [], ...fields });

describe("failed checks", () => {
  it.for([
    { name: "a failure annotation wins", f: run("test", { text: "Error: other", annotations: [{ path: "a.js", line: 1, level: "warning", message: "lint warning" }, { path: "b.js", line: 2, level: "failure", message: "AssertionError: x\nstack" }] }), want: "AssertionError: x" },
    { name: "else the first line mentioning an error", f: run("build", { text: "> tsc\nsrc/a.ts(3,7): error TS2304: Cannot find name 'http'.\nFound 1 error." }), want: "src/a.ts(3,7): error TS2304: Cannot find name 'http'." },
    { name: "else the first line", f: { check: "ci/lint", source: "status", description: "2 problems", annotations: [] } as CheckFailure, want: "2 problems" },
  ])("$name", (tc) => {
    expect(firstErrorLine(tc.f)).toBe(tc.want);
  });

  it("finds a failure shared by 30 % and at least 3 PRs, and nothing below either bound", () => {
    const same = run("build", { text: "error TS2304: Cannot find name 'http'." });
    const byRepo = new Map<string, CheckFailure[]>([
      ["a/1", [same]],
      ["a/2", [same]],
      ["a/3", [same, run("test", { text: "Error: flaky" })]],
      ["a/4", [run("test", { text: "Error: flaky" })]],
    ]);
    expect(systematicFailures(byRepo, 10)).toEqual([{ check: "build", firstLine: "error TS2304: Cannot find name 'http'.", repositories: ["a/1", "a/2", "a/3"] }]);
    expect(systematicFailures(byRepo, 11)).toEqual([]); // 3 of 11 < 30 %
    expect(systematicFailures(new Map([["a/1", [same]], ["a/2", [same]]]), 2)).toEqual([]); // fewer than 3
  });

  it("cuts the agent's context with a note", () => {
    const big = run("test", { text: "x".repeat(5000) });
    const out = failureContext([big], 1000);
    expect(Buffer.byteLength(out)).toBeLessThan(1200);
    expect(out).toMatch(/\[check output cut: \d+ of \d+ bytes not shown\]$/);
    expect(failureContext([run("test", { title: "1 failed", annotations: [{ path: "a.js", line: 3, level: "failure", message: "boom" }] })])).toBe("## test (check run)\nTitle: 1 failed\n- a.js:3 [failure] boom");
  });
});
