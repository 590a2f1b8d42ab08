import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { compileCacheDirectory } from "./compile-cache.js";

const run = promisify(execFile);
const source = new URL("./compile-cache.ts", import.meta.url).pathname;

/** Runs a fresh Node (which strips the types of the source itself) that turns the cache on and loads one module. */
async function startWithCache(env: NodeJS.ProcessEnv, dir: string): Promise<string> {
  const loaded = join(dir, "loaded.mjs");
  writeFileSync(loaded, "export const answer = 42;\n");
  const script = `
    const { enableModuleCompileCache } = await import(${JSON.stringify(source)});
    const used = enableModuleCompileCache();
    const { answer } = await import(${JSON.stringify(loaded)});
    (await import("node:module")).flushCompileCache?.();
    console.log(JSON.stringify({ used: used ?? null, answer }));
  `;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { env });
  return stdout;
}

describe("enableModuleCompileCache", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-compile-cache-"));
    dirs.push(dir);
    return dir;
  };

  it("keeps compiled modules in the user's cache directory, where the next start reads them", async () => {
    const dir = tempDir();
    const out = JSON.parse(await startWithCache({ PATH: process.env.PATH, XDG_CACHE_HOME: dir }, dir));
    expect(out.answer).toBe(42);
    // Node keeps one folder per Node version and V8 flags in it, holding the compiled modules.
    expect(out.used.startsWith(`${join(dir, "flotilla", "node-compile-cache")}/`)).toBe(true);
    expect(readdirSync(out.used).length).toBeGreaterThan(0);
  });

  it("stays off when NODE_DISABLE_COMPILE_CACHE is set, as Node's own cache does", async () => {
    const dir = tempDir();
    const out = JSON.parse(
      await startWithCache({ PATH: process.env.PATH, XDG_CACHE_HOME: dir, NODE_DISABLE_COMPILE_CACHE: "1" }, dir),
    );
    expect(out).toEqual({ used: null, answer: 42 });
    expect(readdirSync(dir)).toEqual(["loaded.mjs"]);
  });
});

describe("compileCacheDirectory", () => {
  it("is under XDG_CACHE_HOME when set, else under ~/.cache — never the shared temporary directory", () => {
    expect(compileCacheDirectory({ XDG_CACHE_HOME: "/c" })).toBe("/c/flotilla/node-compile-cache");
    expect(compileCacheDirectory({})).toBe(join(homedir(), ".cache", "flotilla", "node-compile-cache"));
  });
});
