import { spawn } from "node:child_process";
import { once } from "node:events";
import { chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createSocketDir, removeSocketDir, removeStaleSocketDirs } from "./socket-dir.js";

/** The pid of a process that has exited and been reaped: no process has it (until the kernel reuses it). */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await once(child, "exit");
  return child.pid as number;
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("socket dir", () => {
  it("is short, private and named after its owner whatever TMPDIR says, and is removed again", () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = `/tmp/${"very-long-directory-name-".repeat(6)}`;
    try {
      const dir = createSocketDir();
      expect(dir).toMatch(new RegExp(`^/tmp/fl-${process.pid}-[A-Za-z0-9]{6}$`));
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      // Room for a go-plugin style socket name within the ~108-byte limit, with the longest Linux pid (7 digits).
      expect(`/tmp/fl-4194304-XXXXXX/plugin1234567890`.length).toBeLessThan(108);
      removeSocketDir(dir);
      expect(existsSync(dir)).toBe(false);
      expect(() => removeSocketDir(dir)).not.toThrow();
    } finally {
      process.env.TMPDIR = saved;
    }
  });

  it("removes at the next start the directories of hosts that are gone, and only those", async () => {
    const dead = await deadPid();
    // A dead host's directory, with the socket file its plugin left.
    const stale = `/tmp/fl-${dead}-stale1`;
    mkdirSync(stale, { mode: 0o700 });
    writeFileSync(`${stale}/plugin123`, "");
    // A live host's: this process is alive.
    const live = `/tmp/fl-${process.pid}-alive1`;
    // Not made by createSocketDir: the name says nothing about an owner.
    const foreignName = `/tmp/fl-${dead}-x`;
    made.push(stale, live, foreignName);
    mkdirSync(live, { mode: 0o700 });
    mkdirSync(foreignName, { mode: 0o700 });
    // Another user's directory, when this test can make one (as root): never ours to remove.
    const othersDead = `/tmp/fl-${dead}-other1`;
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      mkdirSync(othersDead, { mode: 0o700 });
      chownSync(othersDead, 65534, 65534);
      made.push(othersDead);
    }
    const dir = createSocketDir();
    made.push(dir);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(foreignName)).toBe(true);
    if (asRoot) expect(existsSync(othersDead)).toBe(true);
    expect(removeStaleSocketDirs()).not.toContain(live);
  });
});
