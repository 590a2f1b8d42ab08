import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { drainStreams } from "./output-drain.js";

describe("drainStreams", () => {
  it("resolves true once every stream has ended and its data was read, leaving them as they are", async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const read: string[] = [];
    out.on("data", (chunk: Buffer) => read.push(String(chunk)));
    err.resume();
    out.end("last words");
    err.end();
    // A bound far longer than the test's timeout: only the streams' end can settle it in time.
    await expect(drainStreams([out, null, err, undefined], 600_000)).resolves.toBe(true);
    expect(read).toEqual(["last words"]);
    expect(out.destroyed && !out.errored).toBe(true);
  });

  it("stops waiting after the bound and destroys a stream that is still open, so its reader ends", async () => {
    const heldOpen = new PassThrough();
    const ended = new PassThrough();
    ended.resume();
    ended.end();
    const reader = (async () => {
      for await (const _ of heldOpen) {
        // Nothing arrives.
      }
    })();
    await expect(drainStreams([heldOpen, ended], 50)).resolves.toBe(false);
    expect(heldOpen.destroyed).toBe(true);
    await expect(reader).rejects.toThrow(/premature close/i);
  });
});
