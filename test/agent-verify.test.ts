import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVerify } from "../runner/verify.ts";

let root: string;
let home: string;
const env = { PATH: process.env.PATH, ANTHROPIC_API_KEY: "sk-ant-api03-verifyleakcheck0123", GITHUB_TOKEN: "ghp_" + "B".repeat(36) };

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), "cody-verify-")));
  home = await realpath(await mkdtemp(path.join(tmpdir(), "cody-verify-home-")));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

describe("runVerify", () => {
  it.for([
    { name: "passes on exit 0", command: "echo fine", want: { ok: true, output: "fine\n" } },
    { name: "fails with the exit code and the tail", command: "echo one; echo two >&2; exit 3", want: { ok: false, reason: "verify command exited with code 3:\none\ntwo" } },
    { name: "fails on timeout", command: "sleep 5", timeoutSeconds: 1, want: { ok: false, reason: "verify command timed out after 1s" } },
  ])("$name", async (tc) => {
    const res = await runVerify(tc.command, root, { timeoutSeconds: tc.timeoutSeconds ?? 30, env, home }, new AbortController().signal);
    expect(res).toMatchObject(tc.want);
  });

  it("runs in the checkout with HOME set and no credential in the environment", async () => {
    const res = await runVerify("pwd; echo HOME=$HOME; env", root, { timeoutSeconds: 30, env, home }, new AbortController().signal);
    expect(res.ok).toBe(true);
    expect(res.output.split("\n")[0]).toBe(root);
    expect(res.output).toContain(`HOME=${home}`);
    expect(res.output).not.toMatch(/ANTHROPIC_API_KEY|GITHUB_TOKEN|sk-ant-|ghp_/);
  });

  it("stops the command and rejects with the abort reason when cancelled (no verdict on the change)", async () => {
    const ac = new AbortController();
    const pending = runVerify("sleep 5", root, { timeoutSeconds: 30, env, home }, ac.signal);
    setTimeout(() => ac.abort(new Error("job cancelled")), 50);
    await expect(pending).rejects.toThrow("job cancelled");
  });
});
