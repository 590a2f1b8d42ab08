/**
 * Reading what is left in a finished process's output pipes, for a bounded time. A pipe ends when the last
 * process holding its write end closes it; a process that left its process group (setsid, a daemon) and
 * kept the job's stdout is out of reach of every group signal, and a reader waiting for the pipe's end would
 * wait as long as that process lives. A container runtime stops reading a container's log once the container
 * is gone; this is the same rule for a process group.
 */
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";

/** How long output is still read after a job's process group is gone, when nothing else is configured. */
export const DEFAULT_OUTPUT_DRAIN_MS = 2_000;

/**
 * Waits until every stream has ended (its data read by whoever consumes it), but at most `withinMs`; then
 * destroys the streams still open, so their pipes are closed and their readers stop. Resolves true when all
 * ended in time, false when some had to be cut off; never rejects.
 */
export async function drainStreams(
  streams: ReadonlyArray<Readable | null | undefined>,
  withinMs: number,
): Promise<boolean> {
  const open = streams.filter((stream): stream is Readable => stream !== null && stream !== undefined);
  // An error or a premature close ends a stream too: nothing more will come from it.
  const ended = Promise.all(open.map((stream) => finished(stream).catch(() => undefined))).then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const cutOff = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), withinMs);
  });
  try {
    const drained = await Promise.race([ended, cutOff]);
    if (!drained) for (const stream of open) if (!stream.readableEnded) stream.destroy();
    return drained;
  } finally {
    clearTimeout(timer);
  }
}
