// Vitest global setup: tests that start a plugin or the CLI as a subprocess run the packages' built dist/,
// so the run first brings every dist/ up to date with its sources (`tsc -b` rebuilds only what changed,
// about a second when nothing did), then the bundles the bins run (scripts/bundle.ts, well under a second).
// Without it, a source edit tested without a rebuild would test stale code.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export default async function buildWorkspace(): Promise<void> {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  // Inside a mutation testing worker the sources carry instrumented mutants, whose types no longer line up
  // with the tests' expectations (a mutated `as const` literal widens to a union): the build there only has
  // to emit what the subprocess tests run. Mutants that do not compile are the TypeScript checker's business.
  const args = process.env.STRYKER_MUTATOR_WORKER === undefined ? ["-b"] : ["-b", "--noCheck"];
  execFileSync(join(root, "node_modules", ".bin", "tsc"), args, { cwd: root, stdio: "inherit" });
  const { bundleAll } = await import("./bundle.ts");
  await bundleAll();
}
