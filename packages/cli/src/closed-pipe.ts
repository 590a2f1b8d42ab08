/**
 * A reader that stops early (`flotilla jobs logs --json H | head -2`) is how
 * a pipeline ends, not a failure. Other programs die of SIGPIPE there; Node
 * ignores SIGPIPE, so the next write fails with EPIPE instead, and an
 * unhandled EPIPE would end the CLI with a stack trace.
 *
 * A command with work in flight elsewhere (`flotilla run` following a cloud
 * job) must not just exit: the job would run on unwatched. Such a command
 * registers a wind-down for the time it runs; a closed pipe then asks it to
 * stop its work, and the command ends with {@link EXIT_CLOSED_PIPE} once it has.
 */
import { EXIT_CLOSED_PIPE } from "./exit-status.js";

let windDown: (() => void) | undefined;

/**
 * While the returned function has not been called, a closed pipe calls `stop`
 * (once) instead of exiting at once. The command then finishes its work and
 * exits with {@link EXIT_CLOSED_PIPE} itself.
 */
export function windDownOnClosedPipe(stop: () => void): () => void {
  windDown = stop;
  return () => {
    if (windDown === stop) windDown = undefined;
  };
}

/**
 * Ends the process at once with {@link EXIT_CLOSED_PIPE}, printing nothing,
 * when a write to one of `streams` finds its reader gone — or, while a command
 * has registered a wind-down, asks it to stop. Later EPIPEs of the same
 * streams are ignored; other stream errors stay unhandled errors. Exiting runs
 * the plugin manager's exit hook, which kills the plugins this process started.
 */
export function exitQuietlyOnClosedPipe(
  streams: readonly NodeJS.WritableStream[],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let closed = false;
  for (const stream of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // After the first EPIPE the stream is destroyed; later writes can only fail the same way.
      if (closed && (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED")) return;
      if (err.code !== "EPIPE") throw err;
      closed = true;
      if (windDown) windDown();
      else exit(EXIT_CLOSED_PIPE);
    });
  }
}
