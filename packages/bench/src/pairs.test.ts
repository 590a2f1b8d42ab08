import { isProcessAlive } from "@flotilla/process";
import { afterAll, describe, expect, it } from "vitest";
import { openPair, spawnServer } from "./pairs.js";
import { createSocketDir } from "./socket-dir.js";

const sockets = createSocketDir();
afterAll(() => sockets.remove());

describe("openPair", () => {
  it("runs the server in its own process and stops it on close", async () => {
    const pair = await openPair("grpc-js", "connect", sockets.socketPath("pair"));
    expect(pair.name).toBe("grpc-js → connect");
    expect(pair.serverPid).not.toBe(process.pid);
    await pair.call();
    await pair.close();
    expect(isProcessAlive(pair.serverPid)).toBe(false);
  });
});

describe("spawnServer", () => {
  it("fails with the server's own usage message when the kind is unknown", async () => {
    await expect(spawnServer("nope" as never, sockets.socketPath("bad"))).rejects.toThrow(
      /bench server "nope" exited \(1\) before it was ready; stderr: server-process: usage is/,
    );
  });
});
