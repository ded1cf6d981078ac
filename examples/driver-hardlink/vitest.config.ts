import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // @strata/core's DI decorators need the metadata polyfill loaded once, first.
    setupFiles: ["reflect-metadata"],
    include: ["src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
