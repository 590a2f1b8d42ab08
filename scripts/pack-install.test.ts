/**
 * The packages as a new user gets them: every published package packed with pnpm (which turns `workspace:`
 * specifiers into versions), the tarballs installed with plain `npm install` into an empty folder outside
 * the repository, under the project's Node 24. Then the installed `flotilla` runs a job through the local
 * provider and returns its exit code, and inspects a plugin written in that folder against the installed
 * SDK. One install (the registry is slow compared with everything else here), hence the long timeout.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, npmInstall, outsideTemp, packTarballs, publishedPackages, root } from "./published-packages.js";

const published = publishedPackages();

const tarballs = outsideTemp("flotilla-tarballs-");
const app = outsideTemp("flotilla-install-");
afterAll(() => {
  rmSync(tarballs, { recursive: true, force: true });
  rmSync(app, { recursive: true, force: true });
});

/** The packed package.json of `tarball`. */
function packedManifest(tarball: string): string {
  const tar = spawnSync("tar", ["-xOzf", tarball, "package/package.json"], { encoding: "utf8" });
  if (tar.status !== 0) throw new Error(`tar failed on ${tarball}: ${tar.stderr}`);
  return tar.stdout;
}

function installed(bin: string, args: string[]) {
  return spawnSync(join(app, "node_modules", ".bin", bin), args, {
    cwd: app,
    // The job journal and the local provider's job records go in the app's folder, not the user's home.
    env: childEnv({ XDG_STATE_HOME: join(app, "state") }),
    encoding: "utf8",
    timeout: 60_000,
  });
}

beforeAll(() => {
  const files = packTarballs(tarballs);
  writeFileSync(join(app, "package.json"), `${JSON.stringify({ name: "flotilla-user", private: true }, null, 2)}\n`);
  npmInstall(app, files);
}, 600_000);

describe("the packed packages, installed with npm outside the repository", () => {
  it("are one tarball per published package, with no workspace: specifier left", () => {
    const names = readdirSync(tarballs);
    expect(names).toHaveLength(published.length);
    for (const name of names) expect(packedManifest(join(tarballs, name))).not.toContain("workspace:");
  });

  it("install without a Kubernetes or Docker client (optional peers of @flotilla/exec)", () => {
    expect(existsSync(join(app, "node_modules", "@flotilla", "cli", "package.json"))).toBe(true);
    expect(existsSync(join(app, "node_modules", "@kubernetes", "client-node"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "dockerode"))).toBe(false);
  });

  it("load every entry point they export; one that needs an optional peer names it when it is missing", () => {
    const entries = published.flatMap((pkg) =>
      Object.keys(pkg.manifest.exports ?? {})
        .filter((subpath) => subpath !== "./package.json")
        .map((subpath) => ({
          specifier: subpath === "." ? pkg.manifest.name : `${pkg.manifest.name}${subpath.slice(1)}`,
          optionalPeers: Object.keys(pkg.manifest.peerDependenciesMeta ?? {}),
        })),
    );
    const probe = join(app, "load-entries.mjs");
    writeFileSync(
      probe,
      `for (const s of ${JSON.stringify(entries.map((e) => e.specifier))}) {\n` +
        "  try { await import(s); console.log(JSON.stringify({ s })); }\n" +
        "  catch (e) { console.log(JSON.stringify({ s, error: String(e?.message ?? e).split('\\n')[0] })); }\n" +
        "}\n",
    );
    const result = spawnSync(process.execPath, [probe], { cwd: app, env: childEnv(), encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    const loaded = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { s: string; error?: string });
    expect(loaded.map((l) => l.s)).toEqual(entries.map((e) => e.specifier));
    const failures = loaded.filter((l, i) => {
      if (l.error === undefined) return false;
      const peers = entries[i]?.optionalPeers ?? [];
      return !peers.some((peer) => l.error?.includes(peer));
    });
    expect(failures).toEqual([]);
  });

  it("run a job through the installed flotilla and the local provider, returning its exit code", () => {
    const result = installed("flotilla", ["run", "--", "sh", "-c", "echo hi; exit 3"]);
    expect(result.stderr).not.toMatch(/Error:|not built|cannot find/i);
    expect(result.stdout).toBe("hi\n");
    expect(result.status).toBe(3);
  });

  it("serve a plugin written against the installed SDK, which the installed flotilla inspects", () => {
    const plugin = join(app, "plugin.mjs");
    writeFileSync(
      plugin,
      [
        'import { serve } from "@flotilla/plugin-sdk";',
        "await serve({",
        '  name: "pack-check",',
        '  version: "0.0.1",',
        "  provider: { async configure() { return {}; } },",
        "  regionLister: {",
        "    async listRegions() {",
        '      return { regions: [{ id: "pack-check-region-1", displayName: "Pack check", available: true }] };',
        "    },",
        "  },",
        "});",
        "",
      ].join("\n"),
    );
    const inspect = installed("flotilla", ["plugin", "inspect", "--", process.execPath, plugin]);
    expect(inspect.stderr).toBe("");
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/plugin +pack-check 0\.0\.1/);
    expect(inspect.stdout).toContain("flotilla.plugin.v1.RegionListerService");
    // The same plugin named in flotilla.yaml (a relative path: the file's folder), asked for its regions.
    writeFileSync(join(app, "flotilla.yaml"), 'version: 1\nplugins:\n  pack:\n    command: ["node", "./plugin.mjs"]\n');
    const regions = installed("flotilla", ["regions", "pack"]);
    expect(regions.stderr).toBe("");
    expect(regions.status).toBe(0);
    expect(regions.stdout).toContain("pack-check-region-1");
  });

  it("give each plugin package an executable: flotilla-plugin-aws refuses to run outside a host", () => {
    const result = installed("flotilla-plugin-aws", []);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/plugin/i);
    expect(result.stderr).not.toMatch(/not built|ERR_MODULE_NOT_FOUND/);
  });

  it("ship each package's LICENSE", () => {
    const license = readFileSync(join(root, "LICENSE"), "utf8");
    for (const pkg of published)
      expect(readFileSync(join(app, "node_modules", pkg.manifest.name, "LICENSE"), "utf8")).toBe(license);
  });
});
