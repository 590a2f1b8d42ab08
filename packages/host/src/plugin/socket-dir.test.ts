import { existsSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSocketDir, removeSocketDir } from "./socket-dir.js";

describe("socket dir", () => {
  it("is short and private whatever TMPDIR says, and is removed again", () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = `/tmp/${"very-long-directory-name-".repeat(6)}`;
    try {
      const dir = createSocketDir();
      expect(dir).toMatch(/^\/tmp\/fl-[A-Za-z0-9]{6}$/);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      // Room for a go-plugin style socket name within the ~108-byte limit.
      expect(`${dir}/plugin1234567890`.length).toBeLessThan(40);
      removeSocketDir(dir);
      expect(existsSync(dir)).toBe(false);
      expect(() => removeSocketDir(dir)).not.toThrow();
    } finally {
      process.env.TMPDIR = saved;
    }
  });
});
