/**
 * How the CLI writes a job's log lines to its stdout and stderr: a piece of
 * an over-long line without a newline (so the line arrives whole without
 * the CLI holding it), and with backpressure (so a slow terminal or pipe
 * slows the log's reading, not the CLI's memory).
 */

/**
 * Writes one log line (a piece: without its newline) to `stream`; when the stream's buffer is full, returns a
 * promise that settles once it drained (or closed), so the caller reads no more of the log meanwhile.
 */
export function writeLine(stream: NodeJS.WritableStream, text: string, continues: boolean): Promise<void> | undefined {
  if (stream.write(continues ? text : `${text}\n`)) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}
