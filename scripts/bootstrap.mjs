#!/usr/bin/env node
// Brings a fresh clone to a working toolchain with nothing but the machine's
// Node and npm, then runs a workspace script under the project's own Node 24.
//
//   node scripts/bootstrap.mjs            install only
//   node scripts/bootstrap.mjs SCRIPT ... install, then `pnpm run SCRIPT ...`
//
// Why this file exists: the machine's Node may be any supported-or-not
// version, and nothing may be installed globally. pnpm is pinned in
// tools/pnpm/package-lock.json (integrity-checked by `npm ci`); Node 24 is the
// `node` package in the root devDependencies, so every pnpm script finds
// node_modules/.bin/node (Node 24) first on its PATH.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const toolsDir = join(root, "tools", "pnpm");
const pnpmBin = join(toolsDir, "node_modules", "pnpm", "bin", "pnpm.cjs");

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, ...options });
  if (result.error) {
    console.error(`bootstrap: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.signal) process.kill(process.pid, result.signal);
  return result.status ?? 1;
}

function pinnedPnpmVersion() {
  const pkg = JSON.parse(readFileSync(join(toolsDir, "package.json"), "utf8"));
  return pkg.dependencies.pnpm;
}

function installedPnpmVersion() {
  const manifest = join(toolsDir, "node_modules", "pnpm", "package.json");
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, "utf8")).version : undefined;
}

if (installedPnpmVersion() !== pinnedPnpmVersion()) {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const status = run(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: toolsDir });
  if (status !== 0) {
    console.error("bootstrap: `npm ci` in tools/pnpm failed; check that the npm registry is reachable.");
    process.exit(status);
  }
}

// Scripts call `pnpm` by name, so the pinned pnpm goes first on their PATH.
const pnpmPath = [join(toolsDir, "node_modules", ".bin"), process.env.PATH].join(delimiter);
const pnpm = (args) => run(process.execPath, [pnpmBin, ...args], { env: { ...process.env, PATH: pnpmPath } });

const installStatus = pnpm(["install", "--frozen-lockfile", "--reporter=append-only"]);
if (installStatus !== 0) {
  console.error("bootstrap: `pnpm install --frozen-lockfile` failed (see above).");
  process.exit(installStatus);
}

const [script, ...rest] = process.argv.slice(2);
if (script) process.exit(pnpm(["run", "--silent", script, ...rest]));
