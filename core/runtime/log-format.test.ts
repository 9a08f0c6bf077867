import { describe, expect, it } from "vitest";
import { humanLogLine, wantsHumanLogs } from "./log-format.ts";

describe("humanLogLine", () => {
  it("turns a pino line into time, level, message and fields", () => {
    const line = JSON.stringify({ level: 40, time: "2026-12-07T05:20:01.123Z", program: "cody", jobId: "j-1", index: 1, msg: "runner crashed; retrying" });
    expect(humanLogLine(line)).toBe("05:20:01 WARN  runner crashed; retrying jobId=j-1 index=1\n");
  });

  it("shows an error by its message, its stack only when asked", () => {
    const line = JSON.stringify({ level: 50, time: "2026-12-07T05:20:01.123Z", err: { message: "boom", stack: "Error: boom\n    at x" }, msg: "failed" });
    expect(humanLogLine(line)).toBe('05:20:01 ERROR failed err="boom"\n');
    expect(humanLogLine(line, { stacks: true })).toBe('05:20:01 ERROR failed err="boom"\nError: boom\n    at x\n');
  });

  it("leaves a line that is not JSON alone", () => expect(humanLogLine("plain")).toBe("plain\n"));
});

describe("wantsHumanLogs", () => {
  it("is human on a terminal unless LOG_FORMAT=json, JSON elsewhere", () => {
    expect(wantsHumanLogs({}, { isTTY: true })).toBe(true);
    expect(wantsHumanLogs({ LOG_FORMAT: "json" }, { isTTY: true })).toBe(false);
    expect(wantsHumanLogs({}, { isTTY: false })).toBe(false);
    expect(wantsHumanLogs({ LOG_FORMAT: "human" }, {})).toBe(true);
  });
});
