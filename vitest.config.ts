import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["core/**/*.test.ts", "runner/**/*.test.ts", "bot/**/*.test.ts", "scripts/**/*.test.ts", "environment/**/*.test.ts", "terraform/**/*.test.ts", "test/**/*.test.ts"],
    // Limits for a hung test, not goals: the 20- and 200-repository jobs take 40–50 s alone on
    // 2 cores and more while other files run beside them.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", LOG_LEVEL: "silent" },
  },
});
