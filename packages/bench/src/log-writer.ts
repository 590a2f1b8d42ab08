/**
 * The job of the log-latency section: after `startDelayMs`, prints `count`
 * stamped lines on stdout, `intervalMs` apart, each stamped with the wall
 * clock just before it is written. The same script is the job run through the
 * local provider plugin and the child read directly through a pipe (the
 * floor), so both sides write exactly the same way.
 *
 * Usage: node log-writer.js <count> <intervalMs> <startDelayMs>
 */
import { formatStampedLine, wallClockMicros } from "./stamped-line.js";

const [count, intervalMs, startDelayMs] = process.argv.slice(2, 5).map(Number);
if (![count, intervalMs, startDelayMs].every((value) => Number.isInteger(value) && (value as number) >= 0)) {
  process.stderr.write(
    `log-writer: expected <count> <intervalMs> <startDelayMs> as non-negative integers, got ${JSON.stringify(process.argv.slice(2))}\n`,
  );
  process.exit(2);
}

let seq = 0;
const writeNext = () => {
  if (seq >= (count as number)) return;
  // On Linux, Node writes to a pipe synchronously, so the stamp is taken right before the bytes leave.
  process.stdout.write(`${formatStampedLine(seq, wallClockMicros())}\n`);
  seq++;
  setTimeout(writeNext, intervalMs);
};
setTimeout(writeNext, startDelayMs);
