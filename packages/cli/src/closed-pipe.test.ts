import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { exitQuietlyOnClosedPipe, windDownOnClosedPipe } from "./closed-pipe.js";

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

  it("asks a registered wind-down to stop once instead of exiting, and exits again once it is gone", () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const exits: number[] = [];
    const stops: string[] = [];
    exitQuietlyOnClosedPipe([stdout, stderr], (code) => exits.push(code));
    const restore = windDownOnClosedPipe(() => stops.push("cancel the job"));
    const epipe = () => Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    stdout.emit("error", epipe());
    stderr.emit("error", epipe());
    stdout.emit("error", Object.assign(new Error("destroyed"), { code: "ERR_STREAM_DESTROYED" }));
    expect(stops).toEqual(["cancel the job"]);
    expect(exits).toEqual([]);
    restore();
    const other = new PassThrough();
    exitQuietlyOnClosedPipe([other], (code) => exits.push(code));
    other.emit("error", epipe());
    expect(exits).toEqual([141]);
  });
});
