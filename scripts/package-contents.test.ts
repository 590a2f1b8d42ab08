/**
 * What each published package ships, as `npm pack --dry-run --json` lists it: no test, test helper,
 * fixture, example or bench (outside create-flotilla-plugin's project template, whose files are a project's
 * own); no source map whose sources are not in the tarball; the Apache-2.0 LICENSE.
 * And the manifest fields an installer and a registry read (repository with directory, engines,
 * sideEffects, files, peer dependencies for the libraries whose public types carry them).
 */
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { npmScript, publishedPackages, root, runScript } from "./published-packages.js";

const published = publishedPackages();

/** What a tarball must never contain, by path inside the package. */
const forbidden: [RegExp, string][] = [
  [/\.test[.-]/, "a test, a type test or a test helper (*.test.*, *.test-d.*, *.test-util.*)"],
  [/(^|\/)fixtures\//, "a test fixture (the repository's one test-helper convention: a fixtures/ folder)"],
  [/(^|\/)test-[^/]*$/, "a test helper (test-*)"],
  [/(^|\/)examples?\//, "an example"],
  [/(^|\/)benche?s?\//, "a bench"],
  [/(^|\/)src\/.*\.ts$/, "TypeScript source (the packages ship dist/ only)"],
  [/(^|\/)tsconfig(\.[^/]*)?\.(json|tsbuildinfo)$/, "build configuration"],
];

function dryRun(dir: string): { path: string }[] {
  const result = runScript(npmScript(), ["pack", "--dry-run", "--json", "--ignore-scripts"], dir);
  if (result.status !== 0) throw new Error(`npm pack --dry-run failed in ${dir}:\n${result.stderr}`);
  const [report] = JSON.parse(result.stdout) as [{ files: { path: string }[] }];
  return report.files;
}

describe("published packages", () => {
  it("are exactly the ones meant to be published; the empty cloud plugins stay private", () => {
    expect(published.map((p) => p.manifest.name)).toEqual([
      "@flotilla/cli",
      "create-flotilla-plugin",
      "@flotilla/exec",
      "@flotilla/host",
      "@flotilla/jobs",
      "@flotilla/plugin-aws",
      "@flotilla/plugin-local",
      "@flotilla/plugin-sdk",
      "@flotilla/process",
      "@flotilla/protocol",
    ]);
  });

  describe.each(published.map((p) => [p.manifest.name, p] as const))("%s", (_name, pkg) => {
    it("ships no test, helper, fixture, example or bench, no dangling source map, and the LICENSE", () => {
      const files = dryRun(pkg.dir).map((f) => f.path);
      const shipped = new Set(files);
      const problems: string[] = [];
      for (const path of files) {
        // A project template ships a project's own files (its sources, tsconfig, tests) as they are.
        const template = pkg.manifest.name === "create-flotilla-plugin" && path.startsWith("template/");
        for (const [pattern, what] of forbidden) {
          if (pattern.test(path) && !template) problems.push(`${path}: ${what}`);
        }
        if (!path.endsWith(".map")) continue;
        const map = JSON.parse(readFileSync(join(pkg.dir, path), "utf8")) as { sources?: string[] };
        for (const source of map.sources ?? []) {
          const target = normalize(join(dirname(path), source));
          if (!shipped.has(target)) problems.push(`${path}: maps to ${target}, which is not shipped`);
        }
      }
      expect(problems).toEqual([]);
      expect(files).toContain("LICENSE");
      expect(readFileSync(join(pkg.dir, "LICENSE"), "utf8")).toBe(readFileSync(join(root, "LICENSE"), "utf8"));
      for (const bin of Object.values(pkg.manifest.bin ?? {})) expect(files).toContain(normalize(bin));
    });

    it("declares repository with directory, engines, sideEffects and a files allow-list", () => {
      const m = pkg.manifest;
      expect(m.repository?.directory).toBe(`packages/${pkg.folder}`);
      expect(m.repository?.url).toMatch(/^git\+https:\/\//);
      expect(m.engines?.node).toBe(">=24");
      expect(m.sideEffects).toBeDefined();
      expect(m.files?.[0]).toBe("dist");
    });

    it("takes @bufbuild/protobuf and @grpc/grpc-js as peers where it uses them, and no private package at run time", () => {
      const m = pkg.manifest;
      for (const shared of ["@bufbuild/protobuf", "@grpc/grpc-js"]) {
        const peer = m.peerDependencies?.[shared];
        if (peer === undefined) continue;
        expect(peer, `${shared} peer range`).toMatch(/^\^\d+\.\d+\.\d+$/);
        expect(m.dependencies?.[shared], `${shared} is a peer, so not also a dependency`).toBeUndefined();
        expect(m.devDependencies?.[shared], `${shared} stays a devDependency for the workspace`).toBeDefined();
      }
      const privateNames = new Set(
        ["fakes", "test-support", "bench", "interop", "plugin-gcp", "plugin-azure", "plugin-digitalocean"].map(
          (f) => `@flotilla/${f}`,
        ),
      );
      for (const dep of Object.keys({ ...m.dependencies, ...m.peerDependencies }))
        expect(privateNames.has(dep), `${dep} is private`).toBe(false);
    });
  });

  it("the libraries whose public types name protobuf or grpc-js messages take them as peers", () => {
    const peers = Object.fromEntries(published.map((p) => [p.folder, Object.keys(p.manifest.peerDependencies ?? {})]));
    for (const folder of ["protocol", "plugin-sdk", "host"])
      expect(peers[folder]).toEqual(expect.arrayContaining(["@bufbuild/protobuf", "@grpc/grpc-js"]));
    for (const folder of ["exec", "jobs", "plugin-local", "plugin-aws"])
      expect(peers[folder]).toContain("@bufbuild/protobuf");
  });
});
