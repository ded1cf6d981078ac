import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    setupFiles: ["reflect-metadata"],
    include: ["src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // clipanion's ESM build imports a directory (`../platform`), which Node's ESM loader
    // refuses; let vite resolve it instead of externalizing the package.
    server: { deps: { inline: ["clipanion"] } },
  },
});
