import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vitest/config";

const root = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(root, "packages");

/**
 * Maps every workspace package import (`@flotilla/protocol`, `@flotilla/exec/kubernetes`, ...) to the TypeScript
 * source behind the export, so a test always runs the code as it is in the tree — never a `dist/` that an
 * edit without a rebuild left stale, and so a mutation testing run sees its mutants in every package.
 * The export's `default` target `./dist/X.js` is, by the tsconfig convention (rootDir src, outDir dist),
 * compiled from `./src/X.ts`.
 */
function workspaceSources(): Plugin {
  const targets = new Map<string, string>();
  for (const folder of readdirSync(packagesDir)) {
    const manifestPath = join(packagesDir, folder, "package.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      name: string;
      exports?: Record<string, { default?: string }>;
    };
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const compiled = target.default;
      if (!compiled?.startsWith("./dist/") || !compiled.endsWith(".js")) continue;
      const source = join(packagesDir, folder, "src", `${compiled.slice("./dist/".length, -".js".length)}.ts`);
      if (!existsSync(source))
        throw new Error(`${manifest.name} exports ${subpath} from ${compiled}, but ${source} is missing`);
      targets.set(subpath === "." ? manifest.name : `${manifest.name}${subpath.slice(1)}`, source);
    }
  }
  return {
    name: "flotilla-workspace-sources",
    enforce: "pre",
    resolveId(id) {
      return targets.get(id) ?? null;
    },
  };
}

// One vitest run covers every package; each package's tests sit beside its sources as src/**/*.test.ts.
// In-process imports of workspace packages resolve to their sources (above); tests that start a plugin
// or the CLI as a subprocess run the built dist/, which the global setup brings up to date first.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    include: ["packages/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
    globalSetup: ["scripts/vitest-build.ts"],
    // Claims about types (a handler of the wrong shape does not compile) live in *.test-d.ts files, checked
    // by tsc: `tsc -b` compiles them with their package, and vitest reports each as a test. Not inside a
    // mutation testing worker: a mutant changes runtime code only, and tsc there would just slow each run.
    typecheck: {
      enabled: process.env.STRYKER_MUTATOR_WORKER === undefined,
      include: ["packages/*/src/**/*.test-d.ts"],
      tsconfig: "packages/plugin-sdk/tsconfig.json",
    },
    // A polled expectation waits for a condition; on a loaded 2-core machine the 1 s default is too short.
    expect: { poll: { timeout: 10_000 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
