import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseChangeSpec } from "./change-spec.ts";
import { CHANGE_SPEC_SCHEMA_PATH, changeSpecSchemaFile } from "../../scripts/gen-change-spec-schema.ts";

describe("parseChangeSpec", () => {
  it("turns a full spec into selectors and a job request", () => {
    const r = parseChangeSpec(`name: Migrate
on:
  - acme/billing
  - acme/* 
  - "search: fetchJson( org:acme"
  - search: "fetchJson org:tools"
    include: [archived]
  - repos: billing org:acme
  - topic: payments
    owner: acme
change:
  prompt: Replace fetchJson
verify: npm test
pullRequest:
  title: "chore: {{name}}"
  body: "Hello\\n\\n{{details}}"
  labels: [cleanup]
  reviewersFromCodeOwners: true
  commitMessage: "chore: migrate"
  base: develop
`);
    expect(r.kind).toBe("ok");
    if (r.kind !== "ok") return;
    expect(r.selectors).toEqual(["acme/billing", "acme/*", "search: fetchJson( org:acme", "search: fetchJson org:tools include:archived", "repos: billing org:acme", "topic: payments owner:acme"]);
    expect(r.request).toEqual({
      type: "code-pattern-update",
      name: "Migrate",
      prompt: "Replace fetchJson",
      verify: "npm test",
      baseBranch: "develop",
      commitMessage: "chore: migrate",
      createPullRequests: true,
      pullRequest: { draft: false, labels: ["cleanup"], reviewers: [], teamReviewers: [], assignees: [], title: "chore: {{name}}", bodyTemplate: "Hello\n\n{{details}}", reviewersFromCodeOwners: true },
    });
  });

  it.for([
    { name: "a scalar document", text: "just text", want: [{ field: "(document)", line: 1 }] },
    { name: "an empty on:", text: "on: []\nchange: {script: ls}", want: [{ field: "on", line: 1, message: "at least 1 entry" }] },
    { name: "a bad selector object", text: "on:\n  - acme/a\n  - serch: x\nchange: {script: ls}", want: [{ field: "on[1]", line: 3 }] },
    { name: "a duplicate key", text: "on: [acme/a]\non: [acme/b]\nchange: {script: ls}", want: [{ field: "(yaml)", line: 2 }] },
    { name: "an over-long name", text: `name: ${"x".repeat(121)}\non: [acme/a]\nchange: {script: ls}`, want: [{ field: "name", line: 1, message: "at most 120 characters" }] },
    { name: "a bad include", text: "on:\n  - topic: x\n    include: [everything]\nchange: {script: ls}", want: [{ field: "on[0]", line: 2 }] },
  ])("reports $name with field and line", (tc) => {
    const r = parseChangeSpec(tc.text);
    expect(r.kind).toBe("invalid");
    expect((r as { errors: unknown[] }).errors).toMatchObject(tc.want);
  });
});

describe("schema/change-spec.schema.json", () => {
  it("is up to date with the zod schema (regenerate: node --import tsx scripts/gen-change-spec-schema.ts)", () => {
    expect(readFileSync(CHANGE_SPEC_SCHEMA_PATH, "utf8")).toBe(changeSpecSchemaFile());
    expect(JSON.parse(changeSpecSchemaFile())).toMatchObject({ title: "Cody Batch change spec", required: ["on", "change"], additionalProperties: false });
  });
});

describe("parseChangeSpec: what a newcomer types (issue 21)", () => {
  it("takes on: as a single string", () => {
    const r = parseChangeSpec("on: acme/api\nchange:\n  script: echo hi\n");
    expect(r.kind === "ok" && r.selectors).toEqual(["acme/api"]);
  });

  it("suggests the field meant for a typo", () => {
    const r = parseChangeSpec("on: [acme/api]\nchange:\n  script: echo hi\npullRequest:\n  reviewrs: [dana]\n");
    expect(r).toEqual({ kind: "invalid", errors: [{ field: "pullRequest.reviewrs", line: 5, message: 'unknown field (did you mean "reviewers"?)' }] });
  });

  it("refuses an alias bomb in one error", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
    const r = parseChangeSpec(`${lines.join("\n")}\non: [acme/api]\nchange:\n  script: echo hi\n`);
    expect(r).toEqual({ kind: "invalid", errors: [{ field: "(yaml)", line: 1, message: "too many aliases (more than 50); write the spec out without anchors" }] });
  });

  it("refuses a text over 1 MB unparsed", () => {
    const r = parseChangeSpec(`# ${"x".repeat(1_100_000)}\n`);
    expect(r).toEqual({ kind: "invalid", errors: [{ field: "(document)", line: 1, message: "1.1 MB is too large for a change spec (at most 1 MB)" }] });
  });
});
