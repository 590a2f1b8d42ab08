import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { withFileLock } from "./file-lock.js";

describe("withFileLock", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs tasks one at a time", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-lock-"));
    const lock = join(dir, "lock");
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`${name} start`);
      await sleep(50);
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([withFileLock(lock, 5000, task("a")), withFileLock(lock, 5000, task("b"))]);
    expect(results).toEqual(["a", "b"]);
    expect(events).toEqual(["a start", "a end", "b start", "b end"]);
  });

  it("releases the lock when the task throws", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-lock-"));
    const lock = join(dir, "lock");
    await expect(
      withFileLock(lock, 1000, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expect(withFileLock(lock, 1000, async () => "again")).resolves.toBe("again");
  });

  it("takes over a lock whose owner process has died", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-lock-"));
    const lock = join(dir, "lock");
    const child = spawn(process.execPath, ["-e", "0"]);
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.on("exit", resolve));
    await mkdir(lock);
    await writeFile(join(lock, "owner"), String(pid));
    await expect(withFileLock(lock, 2000, async () => "taken over")).resolves.toBe("taken over");
  });

  it("gives up with a message naming the lock and its owner", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-lock-"));
    const lock = join(dir, "lock");
    await mkdir(lock);
    await writeFile(join(lock, "owner"), String(process.pid));
    await expect(withFileLock(lock, 300, async () => "never")).rejects.toThrow(
      new RegExp(`${lock} is still held by process ${process.pid}`),
    );
    expect(await readFile(join(lock, "owner"), "utf8")).toBe(String(process.pid));
  });
});
