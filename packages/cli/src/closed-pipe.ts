/**
 * A reader that stops early (`flotilla jobs logs --json H | head -2`) is how
 * a pipeline ends, not a failure. Other programs die of SIGPIPE there; Node
 * ignores SIGPIPE, so the next write fails with EPIPE instead, and an
 * unhandled EPIPE would end the CLI with a stack trace.
 */
import { EXIT_CLOSED_PIPE } from "./exit-status.js";

/**
 * Ends the process at once with {@link EXIT_CLOSED_PIPE}, printing nothing,
 * when a write to one of `streams` finds its reader gone. Other stream
 * errors stay unhandled errors. Exiting runs the plugin manager's exit hook,
 * which kills the plugins this process started.
 */
export function exitQuietlyOnClosedPipe(
  streams: readonly NodeJS.WritableStream[],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      exit(EXIT_CLOSED_PIPE);
    });
  }
}
