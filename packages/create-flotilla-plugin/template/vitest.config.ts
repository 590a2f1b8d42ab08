import { defineConfig } from "vitest/config";

// The tests are the TypeScript files in src/; their compiled copies in dist/ are not run a second time.
export default defineConfig({ test: { include: ["src/**/*.test.ts"], testTimeout: 60_000 } });
