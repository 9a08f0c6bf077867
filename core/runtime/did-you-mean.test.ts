import { describe, expect, it } from "vitest";
import { closest, didYouMean, editDistance } from "./did-you-mean.ts";

describe("editDistance", () => {
  it.for([
    ["", "", 0],
    ["run", "run", 0],
    ["rnu", "run", 1],
    ["reviewrs", "reviewers", 1],
    ["stauts", "status", 1],
    ["kitten", "sitting", 3],
  ] as const)("%s → %s is %i", ([a, b, d]) => expect(editDistance(a, b)).toBe(d));
});

describe("closest", () => {
  it("suggests a near word and nothing for a far one", () => {
    expect(closest("reviewrs", ["reviewers", "labels", "draft"])).toBe("reviewers");
    expect(closest("stauts", ["run", "status", "list"])).toBe("status");
    expect(closest("frobnicate", ["run", "status", "list"])).toBeUndefined();
    expect(closest("xy", ["run"])).toBeUndefined();
    expect(didYouMean("lsit", ["list", "logs"])).toBe(' (did you mean "list"?)');
    expect(didYouMean("zzz", ["list"])).toBe("");
  });
});
