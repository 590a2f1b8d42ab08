import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildZip } from "./fixtures/zip-writer.js";
import { extractZip, readZipEntries } from "./zip-extract.js";

describe("extractZip", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("extracts stored and deflated entries under a prefix, keeping Unix modes", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-zip-"));
    const archive = join(dir, "module.zip");
    const prefix = "golang.org/toolchain@v0.0.1-go9.9.9.linux-amd64/";
    await writeFile(
      archive,
      buildZip([
        { name: `${prefix}bin/go`, content: "#!/bin/sh\necho go\n", deflate: true, mode: 0o755 },
        { name: `${prefix}VERSION`, content: "go9.9.9\n", mode: 0o644 },
        { name: "elsewhere/skipped.txt", content: "not under the prefix" },
      ]),
    );
    const out = join(dir, "out");
    expect(await extractZip(archive, out, prefix)).toBe(2);
    expect(await readFile(join(out, "bin", "go"), "utf8")).toBe("#!/bin/sh\necho go\n");
    expect((await stat(join(out, "bin", "go"))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(out, "VERSION"), "utf8")).toBe("go9.9.9\n");
    expect((await stat(join(out, "VERSION"))).mode & 0o777).toBe(0o644);
  });

  it("refuses an entry that would land outside the destination", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-zip-"));
    const archive = join(dir, "evil.zip");
    await writeFile(archive, buildZip([{ name: "p/../../escape.txt", content: "x" }]));
    await expect(extractZip(archive, join(dir, "out"), "p/")).rejects.toThrow(/would be written outside/);
  });

  it("says a file that is not a zip is not a zip", () => {
    expect(() => readZipEntries(Buffer.from("this is not an archive, only some text"), "notes.txt")).toThrow(
      /zip archive notes.txt: no end-of-central-directory record/,
    );
  });
});
