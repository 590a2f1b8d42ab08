/**
 * Reads a plugin's first stdout line — the handshake — with a deadline and
 * a size cap, and hands back whatever followed it so no output is lost. The
 * host and the SDK's test kit both start plugins through this.
 */
import type { Readable } from "node:stream";

/** Why no handshake line was read. */
export type HandshakeReadFailure = "timeout" | "too-long" | "eof";

/** Thrown by {@link readHandshakeLine}; `reason` says which limit was hit. */
export class HandshakeReadError extends Error {
  constructor(
    readonly reason: HandshakeReadFailure,
    message: string,
    /** What the plugin printed before failing, truncated to 200 characters. */
    readonly partial: string,
  ) {
    super(message);
    this.name = "HandshakeReadError";
  }
}

/** Limits for {@link readHandshakeLine}. */
export interface HandshakeReadOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Give up when this many bytes arrived without a newline. */
  maxBytes: number;
  /** Also give up when this signal aborts (e.g. the process exited). */
  signal?: AbortSignal;
}

/** The first line (without its newline) and the bytes that came after it. */
export interface HandshakeLine {
  line: string;
  rest: Buffer;
}

/**
 * Resolves with the first line of `stream`. Stops listening once done, so the
 * caller can attach its own reader for the rest of the output.
 */
export function readHandshakeLine(stream: Readable, options: HandshakeReadOptions): Promise<HandshakeLine> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const partial = () => Buffer.concat(chunks).toString("utf8").slice(0, 200);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      options.signal?.removeEventListener("abort", onEnd);
      stream.pause();
    };
    const fail = (reason: HandshakeReadFailure, message: string) => {
      cleanup();
      reject(new HandshakeReadError(reason, message, partial()));
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      const newline = buf.indexOf(10);
      if (newline === -1) {
        chunks.push(buf);
        size += buf.length;
        if (size > options.maxBytes) {
          fail("too-long", `the first stdout line exceeds ${options.maxBytes} bytes without a newline`);
        }
        return;
      }
      if (size + newline > options.maxBytes) {
        chunks.push(buf.subarray(0, newline));
        fail("too-long", `the first stdout line is longer than ${options.maxBytes} bytes`);
        return;
      }
      chunks.push(buf.subarray(0, newline));
      const line = Buffer.concat(chunks).toString("utf8").replace(/\r$/, "");
      cleanup();
      resolve({ line, rest: buf.subarray(newline + 1) });
    };
    const onEnd = () => fail("eof", "stdout closed before a handshake line was printed");
    const timer = setTimeout(
      () => fail("timeout", `no handshake line on stdout within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    if (options.signal?.aborted) {
      onEnd();
      return;
    }
    options.signal?.addEventListener("abort", onEnd, { once: true });
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.resume();
  });
}
