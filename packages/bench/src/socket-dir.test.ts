import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSocketDir } from "./socket-dir.js";

describe("createSocketDir", () => {
  it("gives socket paths well under the ~108-byte Unix limit and removes the directory", () => {
    const sockets = createSocketDir();
    const path = sockets.socketPath("floor");
    expect(path.startsWith(`${sockets.dir}/`)).toBe(true);
    expect(Buffer.byteLength(path)).toBeLessThan(60);
    expect(existsSync(sockets.dir)).toBe(true);
    sockets.remove();
    expect(existsSync(sockets.dir)).toBe(false);
  });
});
