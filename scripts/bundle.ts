/**
 * Bundles what starts often into one ES module graph per program (esbuild): the built-in local provider
 * plugin, which every `flotilla run` starts. A bundle loads in one read and one compile instead of
 * resolving and reading some 300 files across packages: it halved the plugin's spawn → handshake time in
 * docs/benchmarks.md. The bundle is built from `dist/` (so after `tsc -b`), into the package's `bundle/`
 * folder, which its bin runs and its tarball ships; `npm run build` and the test run's global setup both
 * make it, so a test never runs a stale bundle.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** What each bundled package bundles: its entry points (built JS, relative to the package), and what stays outside. */
const bundles = [
  {
    pkg: "packages/plugin-local",
    // The plugin, and the job supervisor it spawns for a durable job (found beside it by URL).
    entryPoints: ["dist/main.js", "dist/job-supervisor.js"],
    // Loaded with createRequire on the first schema check (@flotilla/protocol), which a bundler cannot
    // follow: resolved at run time from the package's own dependencies.
    external: ["ajv", "ajv/*"],
  },
];

export async function bundleAll(): Promise<void> {
  for (const { pkg, entryPoints, external } of bundles) {
    const dir = join(root, pkg);
    await build({
      absWorkingDir: dir,
      entryPoints,
      outdir: join(dir, "bundle"),
      bundle: true,
      // Lazily imported modules stay lazy: each dynamic import becomes a chunk loaded when first needed.
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node24",
      external,
      // CommonJS dependencies (grpc-js) call require(), which an ES module has only through createRequire.
      banner: {
        js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);',
      },
      legalComments: "linked",
      logLevel: "warning",
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleAll();
