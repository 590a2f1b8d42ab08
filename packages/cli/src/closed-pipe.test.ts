import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { exitQuietlyOnClosedPipe } from "./closed-pipe.js";

describe("exitQuietlyOnClosedPipe", () => {
  it("exits with 141 when a reader went away, and leaves other stream errors to fail loudly", () => {
    const stream = new PassThrough();
    const exits: number[] = [];
    exitQuietlyOnClosedPipe([stream], (code) => exits.push(code));
    stream.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    expect(exits).toEqual([141]);
    expect(() => stream.emit("error", Object.assign(new Error("write EIO"), { code: "EIO" }))).toThrow("write EIO");
    expect(exits).toEqual([141]);
  });
});
