import { defineConfig } from "vitest/config";

/**
 * `make test-browser`: the tests that drive Debian's chromium through playwright-core
 * (test-browser/). Kept out of `make test` so that one does not need a browser.
 */
export default defineConfig({
  test: {
    include: ["test-browser/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", LOG_LEVEL: "silent" },
  },
});
