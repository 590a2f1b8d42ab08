import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress } from "./progress.js";

describe("createProgress", () => {
  it("writes nothing when the stream is not a terminal", () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let written = "";
    (stream as unknown as PassThrough).on("data", (d) => {
      written += String(d);
    });
    const progress = createProgress(stream);
    progress.update("starting plugin");
    progress.succeed("started");
    progress.fail("failed");
    progress.clear();
    expect(written).toBe("");
  });

  it("stays quiet on a terminal that reports no width", () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 0 }) as unknown as NodeJS.WriteStream;
    let written = "";
    (stream as unknown as PassThrough).on("data", (d) => {
      written += String(d);
    });
    const progress = createProgress(stream);
    progress.update("starting plugin");
    progress.clear();
    expect(written).toBe("");
  });
});
