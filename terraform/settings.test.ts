import { describe, expect, it } from "vitest";
import { fargateSizeError, settingsFromEnv } from "./settings.ts";

const PROD = { CODY_ENV: "prod", ALARM_EMAIL: "ops@example.com", TF_STATE_BUCKET: "acme-tf-state", SUBNET_IDS: "subnet-a" };

describe("Fargate sizes", () => {
  it.for([
    { vcpu: 0.25, memory: 512, ok: true },
    { vcpu: 0.25, memory: 2048, ok: true },
    { vcpu: 0.25, memory: 1536, ok: false },
    { vcpu: 0.5, memory: 4096, ok: true },
    { vcpu: 0.5, memory: 5120, ok: false },
    { vcpu: 1, memory: 2048, ok: true },
    { vcpu: 1, memory: 1024, ok: false },
    { vcpu: 2, memory: 16384, ok: true },
    { vcpu: 2, memory: 4500, ok: false },
    { vcpu: 3, memory: 8192, ok: false },
    { vcpu: 4, memory: 30720, ok: true },
    { vcpu: 4, memory: 32768, ok: false },
    { vcpu: 8, memory: 20480, ok: true },
    { vcpu: 8, memory: 17408, ok: false },
    { vcpu: 16, memory: 122880, ok: true },
    { vcpu: 16, memory: 36864, ok: false },
  ])("$vcpu vCPU with $memory MiB: accepted = $ok", ({ vcpu, memory, ok }) => {
    expect(fargateSizeError(vcpu, memory) === undefined).toBe(ok);
  });
});

describe("settingsFromEnv", () => {
  it.for([
    { env: { RUNNER_VCPU: "3", RUNNER_MEMORY_MIB: "8192" }, want: /^RUNNER_VCPU: Fargate accepts 0.25, 0.5, 1, 2, 4, 8, 16 vCPU, got "3"/ },
    { env: { RUNNER_VCPU: "4", RUNNER_MEMORY_MIB: "32768" }, want: /^RUNNER_MEMORY_MIB: Fargate needs 8192–30720 in steps of 1024 MiB for 4 vCPU, got 32768/ },
    { env: { RUNNER_VCPU: "4", RUNNER_MEMORY_MIB: "8192", BATCH_MAX_VCPUS: "2" }, want: /^BATCH_MAX_VCPUS: 2 is below RUNNER_VCPU \(4\)/ },
    { env: { RUNNER_IMAGE_TAG: "latest" }, want: /^RUNNER_IMAGE_TAG: images are tagged with git SHAs/ },
    { env: { WATCHDOG_ENABLED: "yes" }, want: /^WATCHDOG_ENABLED: must be true or false/ },
    { env: { JOBS_TABLE_NAME: "a b" }, want: /^JOBS_TABLE_NAME: not a DynamoDB table name/ },
    { env: { ...PROD, ALARM_EMAIL: "" }, want: /^ALARM_EMAIL: prod needs someone the alarms reach/ },
    { env: { ...PROD, TF_STATE_BUCKET: "" }, want: /^TF_STATE_BUCKET: prod needs remote state/ },
    { env: { ...PROD, SUBNET_IDS: "" }, want: /^SUBNET_IDS: prod needs the subnets/ },
  ])("rejects $env", ({ env, want }) => {
    expect(() => settingsFromEnv(env)).toThrow(want);
  });

  it.for([
    { env: {}, want: { runnerVcpu: 2, runnerMemoryMiB: 4096, maxVcpus: 64, watchdogEnabled: false, jobsTableName: "cody-batch-dev-jobs", reposTableName: "cody-batch-dev-repositories", budgetUsd: 100 } },
    { env: { RUNNER_VCPU: "0.5", RUNNER_MEMORY_MIB: "1024", BATCH_MAX_VCPUS: "1" }, want: { runnerVcpu: 0.5, runnerMemoryMiB: 1024, maxVcpus: 1 } },
    { env: { ...PROD, JOBS_TABLE_NAME: "cody-batch-prod-jobs-restored", WATCHDOG_ENABLED: "true" }, want: { env: "prod", jobsTableName: "cody-batch-prod-jobs-restored", watchdogEnabled: true } },
  ])("accepts $env", ({ env, want }) => {
    expect(settingsFromEnv(env)).toMatchObject(want);
  });
});
