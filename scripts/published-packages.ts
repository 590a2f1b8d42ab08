/**
 * What the pack tests share: which workspace packages are published (every packages/* manifest without
 * `"private": true`), how to run the pinned pnpm and the machine's npm under the project's Node 24, and how
 * to pack the published packages into tarballs in a folder outside the repository.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** A published package: its folder under packages/ and its manifest. */
export interface PublishedPackage {
  folder: string;
  dir: string;
  manifest: {
    name: string;
    private?: boolean;
    files?: string[];
    bin?: Record<string, string>;
    engines?: Record<string, string>;
    repository?: { type?: string; url?: string; directory?: string };
    sideEffects?: boolean | string[];
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    exports?: Record<string, unknown>;
    devDependencies?: Record<string, string>;
  };
}

export function publishedPackages(): PublishedPackage[] {
  const found: PublishedPackage[] = [];
  for (const folder of readdirSync(join(root, "packages")).sort()) {
    const dir = join(root, "packages", folder);
    const path = join(dir, "package.json");
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, "utf8")) as PublishedPackage["manifest"];
    if (manifest.private !== true) found.push({ folder, dir, manifest });
  }
  return found;
}

/**
 * The environment for a package-manager child: no `npm_*` / `pnpm_*` settings inherited from a surrounding
 * `pnpm run` (they would point npm at pnpm's config), and the project's Node first on PATH, so every
 * `#!/usr/bin/env node` script (npm itself, the installed bins) runs under Node 24.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ""].join(delimiter);
  return { ...env, ...extra };
}

/** The pinned pnpm (tools/pnpm), as a script for process.execPath. */
export const pnpmScript = join(root, "tools", "pnpm", "node_modules", "pnpm", "bin", "pnpm.cjs");

/** The machine's npm, as a script for process.execPath: the `npm` on PATH, followed to its npm-cli.js. */
export function npmScript(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || dir.includes(`${join(root, "node_modules")}`)) continue;
    const candidate = join(dir, "npm");
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (real.endsWith(".js")) return real;
    const beside = join(dirname(real), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
    if (existsSync(beside)) return beside;
  }
  throw new Error("no npm on PATH: the pack tests install the packed tarballs with npm");
}

/** Runs `script args` under this Node (the project's Node 24) and returns what it printed. */
export function runScript(script: string, args: string[], cwd: string, timeoutMs = 120_000) {
  return spawnSync(process.execPath, [script, ...args], {
    cwd,
    env: childEnv({ npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" }),
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** A temporary folder that is not inside the repository, so nothing there resolves a workspace package. */
export function outsideTemp(prefix: string): string {
  const base = relative(root, tmpdir()).startsWith("..") ? tmpdir() : "/tmp";
  return mkdtempSync(join(base, prefix));
}

/**
 * The published packages named in `names` and every published package they depend on, by name; all of
 * them when `names` is empty. An unknown name is an error that lists the published ones.
 */
export function withDependencies(names: readonly string[]): PublishedPackage[] {
  const published = publishedPackages();
  if (names.length === 0) return published;
  const byName = new Map(published.map((pkg) => [pkg.manifest.name, pkg]));
  const wanted = new Set<string>();
  const visit = (name: string) => {
    const pkg = byName.get(name);
    if (!pkg) {
      throw new Error(`${name} is not a published package; they are: ${[...byName.keys()].join(", ")}`);
    }
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dependency of Object.keys(pkg.manifest.dependencies ?? {}))
      if (byName.has(dependency)) visit(dependency);
  };
  for (const name of names) visit(name);
  return published.filter((pkg) => wanted.has(pkg.manifest.name));
}

/**
 * Packs published packages with pnpm (which turns `workspace:` specifiers into versions) into
 * `destination`: those named and what they depend on, or all of them when none is named (see
 * {@link withDependencies}). Returns the tarballs' paths. `npm run tarballs` runs it from the command line.
 */
export function packTarballs(destination: string, names: readonly string[] = []): string[] {
  const before = new Set(existsSync(destination) ? readdirSync(destination) : []);
  // One pnpm for all of them: starting pnpm takes longer than packing a package.
  const filters = withDependencies(names).flatMap((pkg) => ["--filter", pkg.manifest.name]);
  const packed = runScript(pnpmScript, ["-r", ...filters, "pack", "--pack-destination", destination], root);
  if (packed.status !== 0) throw new Error(`pnpm pack failed:\n${packed.stdout}${packed.stderr}`);
  return readdirSync(destination)
    .filter((name) => name.endsWith(".tgz") && !before.has(name))
    .map((name) => join(destination, name));
}

/**
 * `npm install` in `dir` with the packed `tarballs` and `args`, preferring npm's cache to the registry (every
 * pack test installs the same dependencies); throws with npm's output when it fails.
 */
export function npmInstall(dir: string, tarballs: readonly string[], args: readonly string[] = []): void {
  const install = runScript(
    npmScript(),
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...args, ...tarballs],
    dir,
    540_000,
  );
  if (install.status !== 0) throw new Error(`npm install of the tarballs failed:\n${install.stdout}${install.stderr}`);
}
