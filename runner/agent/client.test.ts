import { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Config } from "../../core/config/index.ts";
import { startFakeAnthropic, message, text } from "../../test/fakes/anthropic.ts";
import { backoffMs, classifyModelError, DEFAULT_MODEL, modelFor, newModelClient, retryAfterMs } from "./client.ts";

function apiError(status: number, type: string, msg: string, headers: Record<string, string> = {}, errorCode?: string): APIError {
  const body = { type: "error", error: { type, message: msg, ...(errorCode ? { details: { error_code: errorCode } } : {}) } };
  return APIError.generate(status, body, undefined, new Headers(headers));
}

describe("classifyModelError", () => {
  it.for([
    { name: "429 with retry-after", err: apiError(429, "rate_limit_error", "slow down", { "retry-after": "12" }), want: { kind: "retry", delayMs: 12_000 } },
    { name: "429 with retry-after-ms", err: apiError(429, "rate_limit_error", "slow down", { "retry-after-ms": "1500", "retry-after": "9" }), want: { kind: "retry", delayMs: 1500 } },
    { name: "429 spend limit by message", err: apiError(429, "rate_limit_error", "You have reached your specified API usage limits."), want: { kind: "fatal" } },
    { name: "429 spend limit by code", err: apiError(429, "rate_limit_error", "limit", {}, "enforced_spend_limit_reached"), want: { kind: "fatal" } },
    { name: "529 overloaded", err: apiError(529, "overloaded_error", "Overloaded"), want: { kind: "retry" } },
    { name: "500", err: apiError(500, "api_error", "boom"), want: { kind: "retry" } },
    { name: "400", err: apiError(400, "invalid_request_error", "bad"), want: { kind: "fatal" } },
    { name: "401", err: apiError(401, "authentication_error", "invalid x-api-key"), want: { kind: "fatal" } },
    { name: "connection", err: new APIConnectionError({ message: "ECONNREFUSED" }), want: { kind: "retry" } },
    { name: "abort", err: new APIUserAbortError(), want: { kind: "aborted" } },
    { name: "a plain error", err: new Error("weird"), want: { kind: "fatal" } },
  ])("$name", (tc) => {
    expect(classifyModelError(tc.err)).toMatchObject(tc.want);
  });
});

describe("retryAfterMs and backoffMs", () => {
  it("reads seconds, HTTP dates and nothing", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ "retry-after": "0.5" }), now)).toBe(500);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });
  it("doubles up to a minute", () => {
    expect([0, 1, 2, 10].map((a) => backoffMs(a, () => 0.5))).toEqual([1000, 2000, 4000, 60_000]);
  });
});

describe("newModelClient", () => {
  it("talks to the base URL with the key, and sends no credential without one", async () => {
    const fake = await startFakeAnthropic(() => message([text("hi")]));
    try {
      for (const apiKey of ["sk-ant-api03-abcdefghijklmnop", undefined]) {
        const client = newModelClient({ anthropic: { apiKey, baseUrl: fake.url } } as Config);
        const res = await client.messages.create({ model: DEFAULT_MODEL, max_tokens: 10, messages: [{ role: "user", content: "x" }] });
        expect(res.content).toEqual([{ type: "text", text: "hi" }]);
        const headers = fake.requests.at(-1)!.headers;
        const sent = [headers["x-api-key"], headers.authorization].filter(Boolean).join(" ");
        if (apiKey) expect(sent).toContain(apiKey);
        else expect(sent).toBe("");
      }
      expect(fake.requests.at(-1)!.headers["x-stainless-retry-count"]).toBe("0");
    } finally {
      await fake.close();
    }
  });

  it("answers 501 naming an unserved route", async () => {
    const fake = await startFakeAnthropic([]);
    try {
      const client = newModelClient({ anthropic: { apiKey: "sk-ant-api03-abcdefghijklmnop", baseUrl: fake.url } } as Config);
      await expect(client.models.list()).rejects.toThrow(/does not serve GET \/v1\/models/);
    } finally {
      await fake.close();
    }
  });

  it("defaults to a model the SDK does not mark deprecated", async () => {
    // The SDK's own list (not exported): it warns on every call with one of these models.
    const sdkDir = path.dirname(createRequire(import.meta.url).resolve("@anthropic-ai/sdk"));
    const list = await readFile(path.join(sdkDir, "internal/data/deprecated-models.js"), "utf8");
    expect(list).toContain("claude-sonnet-4-5");
    expect(list).not.toContain(`'${DEFAULT_MODEL}'`);
    expect(modelFor({ anthropic: {} } as Config)).toBe(DEFAULT_MODEL);
    expect(modelFor({ anthropic: { model: "claude-opus-4-7" } } as Config)).toBe("claude-opus-4-7");
  });
});
