import { defineConfig } from "vitest/config";

/**
 * The end-to-end suite: the built `strata` CLI against real tools (runc, skopeo, umoci, the
 * Debian registry). Files run one at a time: they start servers, mount filesystems and may
 * pull large layers, so parallel files would fight over CPU and time out at random.
 */
export default defineConfig({
  test: {
    include: ["*.test.ts"],
    setupFiles: ["reflect-metadata"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    fileParallelism: false,
  },
});
