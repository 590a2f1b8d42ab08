import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveExecutable, sha256File, verifyChecksum } from "./checksum.js";
import { PluginError } from "./plugin-error.js";

const dir = mkdtempSync(path.join(tmpdir(), "checksum-"));
const exe = path.join(dir, "my-plugin");
writeFileSync(exe, "#!/bin/sh\necho hi\n");
chmodSync(exe, 0o755);
const good = createHash("sha256").update("#!/bin/sh\necho hi\n").digest("hex");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checksum", () => {
  it("hashes a file", async () => {
    expect(await sha256File(exe)).toBe(good);
  });

  it("finds a command on the search path and resolves relative paths against cwd", async () => {
    expect(await resolveExecutable("my-plugin", `/nonexistent:${dir}`, "/")).toBe(exe);
    expect(await resolveExecutable("./my-plugin", undefined, dir)).toBe(exe);
    expect(await resolveExecutable("no-such-plugin", dir, "/")).toBeUndefined();
  });

  it("accepts the right checksum in any case", async () => {
    await expect(verifyChecksum("p", exe, good.toUpperCase(), undefined, "/")).resolves.toBeUndefined();
  });

  it("rejects a mismatch naming the plugin, the path, expected and actual", async () => {
    const wrong = "0".repeat(64);
    const err = await verifyChecksum("local", exe, wrong, undefined, "/").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    const message = (err as PluginError).message;
    expect(message).toContain('plugin "local" failed during spawn');
    expect(message).toContain(exe);
    expect(message).toContain(`expected sha256 ${wrong}`);
    expect(message).toContain(`actual ${good}`);
  });

  it("says so when the command cannot be found", async () => {
    await expect(verifyChecksum("p", "no-such-plugin", good, dir, "/")).rejects.toThrow(/not on the plugin's PATH/);
  });
});
