import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { HandshakeReadError, readHandshakeLine } from "./handshake-line.js";

const limits = { timeoutMs: 2000, maxBytes: 64 };

describe("readHandshakeLine", () => {
  it("returns the first line across chunks and keeps what followed", async () => {
    const s = new PassThrough();
    const result = readHandshakeLine(s, limits);
    s.write("1|1|unix|/tmp/");
    s.write("a.sock|grpc|\r\nlog line\n");
    const { line, rest } = await result;
    expect(line).toBe("1|1|unix|/tmp/a.sock|grpc|");
    expect(rest.toString()).toBe("log line\n");
  });

  it("fails on a line over the cap, split or not", async () => {
    const s = new PassThrough();
    const result = readHandshakeLine(s, limits);
    s.write("x".repeat(40));
    s.write("x".repeat(40));
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeReadError);
    expect((err as HandshakeReadError).reason).toBe("too-long");

    const s2 = new PassThrough();
    const r2 = readHandshakeLine(s2, limits);
    s2.write(`${"y".repeat(70)}\n`);
    await expect(r2).rejects.toMatchObject({ reason: "too-long" });
  });

  it("fails after the timeout with what was printed so far", async () => {
    const s = new PassThrough();
    const result = readHandshakeLine(s, { ...limits, timeoutMs: 50 });
    s.write("half a li");
    await expect(result).rejects.toMatchObject({ reason: "timeout", partial: "half a li" });
  });

  it("fails at end of stream or when the signal aborts", async () => {
    const s = new PassThrough();
    const result = readHandshakeLine(s, limits);
    s.end("no newline");
    await expect(result).rejects.toMatchObject({ reason: "eof", partial: "no newline" });

    const controller = new AbortController();
    const r2 = readHandshakeLine(new PassThrough(), { ...limits, signal: controller.signal });
    controller.abort();
    await expect(r2).rejects.toMatchObject({ reason: "eof" });
  });
});
