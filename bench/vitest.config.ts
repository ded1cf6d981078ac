import { defineConfig } from "vitest/config";

/** The bench's smoke test: one `--quick` run of the whole suite, checked for shape, not speed. */
export default defineConfig({
  test: {
    setupFiles: ["reflect-metadata"],
    include: ["src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
