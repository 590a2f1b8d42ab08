import { defineConfig } from "vitest/config";

// One vitest run covers every package; each package's tests sit beside its
// sources as src/**/*.test.ts and run against the other packages' built dist/.
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
