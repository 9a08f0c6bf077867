/**
 * Change spec files: one YAML document describing a job (what to change, where, and how the pull
 * requests look), validated with zod (`zod/mini`, as the rest of core) and published as a JSON
 * Schema for editors (`schema/change-spec.schema.json`, written by
 * `scripts/gen-change-spec-schema.ts`). Every error names the field and the line. Pure.
 *
 * ```yaml
 * name: Migrate fetchJson to http.get
 * on:
 *   - acme/billing
 *   - search: "fetchJson( org:acme"
 *   - topic: payments
 *     owner: acme
 * change:
 *   prompt: Replace every call of fetchJson(url) with await http.get(url).json()
 * verify: npm test
 * pullRequest:
 *   title: "chore: {{name}}"
 *   labels: [cleanup]
 * ```
 */
import * as z from "zod/mini";
import { LineCounter, parseDocument, isNode, type Node } from "yaml";
import type { JobRequest } from "../jobs/index.ts";
import { didYouMean } from "../runtime/index.ts";

/** Spec files larger than this are refused unread (a spec is a few hundred bytes). */
export const MAX_SPEC_BYTES = 1_000_000;
/** Aliases a spec may expand (yaml's `maxAliasCount`): a "billion laughs" document is refused. */
const MAX_ALIASES = 50;

const text = (description: string, max: number) => z.string().check(z.minLength(1), z.maxLength(max), z.describe(description));
const names = (description: string) => z.array(z.string().check(z.minLength(1), z.maxLength(50))).check(z.maxLength(20), z.describe(description));
const include = z.optional(
  z.array(z.enum(["archived", "forks"])).check(z.describe("Keep archived repositories and/or forks, which are left out by default.")),
);

const selectorObject = z.union(
  [
    z.strictObject({ search: text("GitHub code search query: repositories with a matching file.", 256), include }),
    z.strictObject({ repos: text("GitHub repository search query.", 256), include }),
    z.strictObject({
      topic: text("Repository topic.", 50),
      owner: z.optional(text("Only repositories of this org or user.", 39)),
      include,
    }),
  ],
  { error: "expected one of search:, repos: or topic: (with owner: and include: where they apply)" },
);

/** One `on:` entry: a string line or a selector object. */
const onEntry = z.union([text("owner/name, owner/* or a selector line such as \"search: fetchJson org:acme\".", 300), selectorObject], {
  error: "expected owner/name, owner/*, or a search:, repos: or topic: selector",
});

/** The zod schema of a change spec; {@link changeSpecJsonSchema} is its JSON Schema. */
export const ChangeSpecSchema = z.strictObject({
  name: z.optional(text("What the change is called (job name, default PR title and commit subject).", 120)),
  // A single entry (`on: acme/api`) is read as a list of one before validation (parseChangeSpec).
  on: z.array(onEntry).check(z.minLength(1), z.describe("Where to make the change: repositories and selectors, intersected with ALLOWED_REPOSITORIES. One entry may be written without the list.")),
  change: z.union(
    [
      z.strictObject({ prompt: text("Instructions for Claude, in plain words.", 20_000) }),
      z.strictObject({ script: text("Shell commands run in the repository root.", 20_000) }),
    ],
    { error: "give exactly one of change.prompt (Claude) or change.script (shell)" },
  ),
  verify: z.optional(text("Command that must pass before a pull request is opened.", 2_000)),
  judge: z.optional(z.boolean().check(z.describe("The scope judge reads each change before it is pushed and may veto it (default: on for change.prompt, off for change.script)."))),
  budgetUsd: z.optional(z.number().check(z.gt(0), z.lte(1_000_000), z.describe("Hard cap on the job's Claude spend in US dollars (default DEFAULT_JOB_BUDGET_USD, else none)."))),
  heal: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(5), z.describe("Healing attempts per pull request whose checks fail (default 0: heal only on request)."))),
  pullRequest: z.optional(
    z
      .strictObject({
        open: z.optional(z.boolean().check(z.describe("Open pull requests (default true when pullRequest is given)."))),
        title: z.optional(text("PR title; {{name}}, {{jobId}}, {{repository}} are filled in.", 256)),
        body: z.optional(text("PR body template (Markdown); {{details}} is the generated description.", 20_000)),
        labels: z.optional(names("Labels to add.")),
        reviewers: z.optional(names("Users to request reviews from.")),
        teamReviewers: z.optional(names("Team slugs to request reviews from.")),
        reviewersFromCodeOwners: z.optional(z.boolean().check(z.describe("Also request the CODEOWNERS owners of the changed files."))),
        assignees: z.optional(names("Users to assign.")),
        draft: z.optional(z.boolean().check(z.describe("Open as drafts."))),
        base: z.optional(text("Base branch (default: the repository's default branch).", 200)),
        commitMessage: z.optional(text("Commit message; first line is the subject. Placeholders as in title.", 5_000)),
        branch: z.optional(text("Branch to push, lasting across jobs: a later job on the same branch updates the same PR (default cody/<jobId>).", 200)),
        onConflict: z.optional(z.enum(["keep", "skip", "replace"]).check(z.describe("When others pushed to the branch: keep their commits (rebase onto Cody's change, refuse on conflict), skip the repository, or replace them (default keep)."))),
        allowNoChecks: z.optional(z.boolean().check(z.describe("Merge green also merges PRs on which no check ran."))),
        minIntervalSeconds: z.optional(z.number().check(z.int(), z.minimum(0), z.describe("Minimum seconds between two PR creations."))),
      })
      .check(z.describe("How the pull requests look. Without it, branches are pushed and no PR is opened.")),
  ),
});

/** A change spec as written. */
export type ChangeSpec = z.infer<typeof ChangeSpecSchema>;

/** The JSON Schema editors use (draft 2020-12), generated from {@link ChangeSpecSchema}. */
export function changeSpecJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ChangeSpecSchema) as { properties: Record<string, { items?: unknown; description?: string }> };
  const on = schema.properties.on!;
  schema.properties.on = { anyOf: [on, on.items], description: on.description } as never;
  return {
    ...schema,
    $id: "https://github.com/cody-batch/cody-batch/schema/change-spec.schema.json",
    title: "Cody Batch change spec",
    description: "One batch change: where (on), what (change), checks (verify) and pull requests. See README, 'Change spec files'.",
  };
}

/** A problem with a spec: the dotted field, its 1-based line, and what is wrong. */
export type SpecError = { field: string; line: number; message: string };

export type SpecParse =
  | { kind: "ok"; spec: ChangeSpec; selectors: string[]; request: Omit<JobRequest, "createdBy" | "repositories"> }
  | { kind: "invalid"; errors: SpecError[] };

/**
 * Parses and validates a spec's YAML text. Returns the spec, its `on:` entries as selector
 * lines (see core/github/selectors.ts) and the job request it describes (without repositories, which
 * come from resolving the selectors), or every error with field and line. Never throws.
 */
export function parseChangeSpec(yamlText: string): SpecParse {
  if (yamlText.length > MAX_SPEC_BYTES) return { kind: "invalid", errors: [{ field: "(document)", line: 1, message: tooBig(yamlText.length) }] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    return { kind: "invalid", errors: doc.errors.map((e) => ({ field: "(yaml)", line: lineAt(e.pos[0]), message: e.message.split("\n")[0]! })) };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch {
    return { kind: "invalid", errors: [{ field: "(yaml)", line: 1, message: `too many aliases (more than ${MAX_ALIASES}); write the spec out without anchors` }] };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { kind: "invalid", errors: [{ field: "(document)", line: 1, message: "a change spec is a mapping with at least on: and change:" }] };
  }
  const on = (value as { on?: unknown }).on;
  if (on !== undefined && on !== null && !Array.isArray(on)) (value as { on: unknown[] }).on = [on];
  const parsed = ChangeSpecSchema.safeParse(value);
  if (!parsed.success) {
    const nodeLine = (path: PropertyKey[]): number => {
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
        if (isNode(node) && (node as Node).range) return lineAt((node as Node).range![0]);
      }
      return 1;
    };
    const errors = parsed.error.issues.map((issue) => {
      const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
      return { field: fieldName(path), line: keyLine(doc, path, lineAt) ?? nodeLine(path), message: messageOf(issue, valueAt(value, path)) };
    });
    return { kind: "invalid", errors: errors.sort((a, b) => a.line - b.line) };
  }
  const spec = parsed.data;
  const pr = spec.pullRequest;
  const open = pr !== undefined && pr.open !== false;
  const request: Omit<JobRequest, "createdBy" | "repositories"> = {
    type: "prompt" in spec.change ? "code-pattern-update" : "script",
    ...(spec.name ? { name: spec.name } : {}),
    ...("prompt" in spec.change ? { prompt: spec.change.prompt } : { script: spec.change.script }),
    ...(spec.verify ? { verify: spec.verify } : {}),
    ...(spec.judge !== undefined ? { judge: spec.judge } : {}),
    ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
    ...(spec.heal !== undefined ? { heal: spec.heal } : {}),
    ...(pr?.base ? { baseBranch: pr.base } : {}),
    ...(pr?.commitMessage ? { commitMessage: pr.commitMessage } : {}),
    ...(pr?.branch ? { branch: pr.branch } : {}),
    ...(pr?.onConflict ? { onConflict: pr.onConflict } : {}),
    ...(pr?.allowNoChecks ? { allowNoChecks: true } : {}),
    createPullRequests: open,
    pullRequest: {
      draft: pr?.draft ?? false,
      labels: pr?.labels ?? [],
      reviewers: pr?.reviewers ?? [],
      teamReviewers: pr?.teamReviewers ?? [],
      assignees: pr?.assignees ?? [],
      ...(pr?.minIntervalSeconds !== undefined ? { minIntervalSeconds: pr.minIntervalSeconds } : {}),
      ...(pr?.title ? { title: pr.title } : {}),
      ...(pr?.body ? { bodyTemplate: pr.body } : {}),
      ...(pr?.reviewersFromCodeOwners ? { reviewersFromCodeOwners: true } : {}),
    },
  };
  return { kind: "ok", spec, selectors: spec.on.map(selectorLine), request };
}

/** An `on:` entry as a selector line: strings as written, objects as `search: …`, `topic: … owner:…`. */
function selectorLine(entry: ChangeSpec["on"][number]): string {
  if (typeof entry === "string") return entry;
  const inc = (entry.include ?? []).map((i) => ` include:${i}`).join("");
  if ("search" in entry) return `search: ${entry.search}${inc}`;
  if ("repos" in entry) return `repos: ${entry.repos}${inc}`;
  return `topic: ${entry.topic}${entry.owner ? ` owner:${entry.owner}` : ""}${inc}`;
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), "") || "(document)";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** The line of a mapping key (for an unknown or wrong field the key is where the eye goes). */
function keyLine(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[], lineAt: (o: number) => number): number | undefined {
  const key = path.at(-1);
  if (typeof key !== "string") return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1) as unknown[], true);
  const items = (parent as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null)?.items;
  const pair = items?.find((p) => p.key?.value === key);
  return pair?.key?.range ? lineAt(pair.key.range[0]) : undefined;
}

type Issue = z.core.$ZodIssue;

function messageOf(issue: Issue, actual: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      return actual === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${actual === null ? "null" : Array.isArray(actual) ? "a list" : typeof actual}`;
    case "too_big":
      return `at most ${issue.maximum} ${issue.origin === "string" ? "characters" : "entries"}`;
    case "too_small":
      return issue.origin === "string" ? "must not be empty" : issue.origin === "array" ? `at least ${issue.minimum} entr${issue.minimum === 1 ? "y" : "ies"}` : `at least ${issue.minimum}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? `s ${issue.keys.join(", ")}` : ""}${issue.keys.length === 1 ? didYouMean(issue.keys[0]!, SPEC_FIELDS) : ""}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "not_multiple_of":
    case "invalid_format":
      return issue.message;
    default:
      return issue.message === "Invalid input" ? `invalid (${issue.code})` : issue.message;
  }
}

/** Every field name a spec knows, for "did you mean". */
const SPEC_FIELDS = ["name", "on", "change", "prompt", "script", "verify", "pullRequest", "open", "title", "body", "labels", "reviewers", "teamReviewers",
  "reviewersFromCodeOwners", "assignees", "draft", "base", "commitMessage", "minIntervalSeconds", "search", "repos", "topic", "owner", "include"];

/** The one-line refusal of a spec over {@link MAX_SPEC_BYTES}. */
export function tooBig(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB is too large for a change spec (at most ${MAX_SPEC_BYTES / 1_000_000} MB)`;
}

/** Errors as people read them: `file:line: field: message`, one per line. */
export function formatSpecErrors(file: string, errors: readonly SpecError[]): string {
  return errors.map((e) => `${file}:${e.line}: ${e.field}: ${e.message}`).join("\n");
}
