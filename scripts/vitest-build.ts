// Vitest global setup: tests that start a plugin or the CLI as a subprocess run the packages' built dist/,
// so the run first brings every dist/ up to date with its sources (`tsc -b` rebuilds only what changed,
// about a second when nothing did). Without it, a source edit tested without a rebuild would test stale code.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export default function buildWorkspace(): void {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-b"], { cwd: root, stdio: "inherit" });
}
