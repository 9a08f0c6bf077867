import { describe, expect, it } from "vitest";
import { cloneReason } from "./clone-reason.ts";

describe("cloneReason", () => {
  const missing = "fatal: repository 'https://github.com/acme/nope.git/' not found";
  it("names the URL tried, never its credentials", () => {
    expect(cloneReason(missing, "acme/nope", undefined, { url: "https://x-access-token:ghp_secret@github.com/acme/nope.git?a=b", token: true })).toBe(
      "repository acme/nope not found at https://github.com/acme/nope.git (or the token cannot read it)",
    );
  });
  it("says when no token was there to send", () => {
    expect(cloneReason(missing, "acme/nope", undefined, { url: "https://github.com/acme/nope.git", token: false })).toBe(
      "repository acme/nope not found at https://github.com/acme/nope.git (no GITHUB_TOKEN set: a private repository needs one)",
    );
  });
  it("a local remote: the path, nothing about tokens", () => {
    expect(cloneReason("fatal: '/srv/acme/nope.git' does not appear to be a git repository", "acme/nope", undefined, { url: "file:///srv/acme/nope.git", token: false })).toBe(
      "repository acme/nope not found at file:///srv/acme/nope.git",
    );
  });
});
