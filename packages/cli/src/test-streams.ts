/**
 * Captured stdout/stderr and a silent progress for in-process command tests.
 */
import { PassThrough } from "node:stream";
import type { Progress } from "./progress.js";

/** Streams that remember what was written, typed as the process's. */
export interface CapturedIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  progress: Progress;
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

/** New captured streams. */
export function capturedIo(): CapturedIo {
  const capture = () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (d) => {
      text += String(d);
    });
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
  };
  const stdout = capture();
  const stderr = capture();
  return {
    stdout: stdout.stream,
    stderr: stderr.stream,
    progress: { update() {}, succeed() {}, fail() {}, clear() {} },
    out: stdout.text,
    err: stderr.text,
  };
}
