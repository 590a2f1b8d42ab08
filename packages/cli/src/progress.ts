/**
 * Progress for long work (plugin start, job pending → running), drawn with
 * ora on stderr only when stderr is a terminal: piped or captured output
 * stays exactly the job's own.
 */
import { createRequire } from "node:module";
import type { Ora } from "ora";

/**
 * ora, loaded only for a terminal: it and its dependencies (string-width, chalk, ...) take a noticeable
 * part of a short command's start, and piped or captured output draws no spinner. (An ES module without
 * top-level await, which Node 24 loads with require.)
 */
function loadOra(): typeof import("ora").default {
  return (createRequire(import.meta.url)("ora") as typeof import("ora")).default;
}

/** A progress line that may be invisible. */
export interface Progress {
  /** Shows (or replaces) the current activity. */
  update(text: string): void;
  /** Marks the activity done with a final line (TTY only). */
  succeed(text: string): void;
  /** Marks the activity failed with a final line (TTY only). */
  fail(text: string): void;
  /** Removes the spinner so other output can be written. */
  clear(): void;
}

/** A spinner on `stream` when it is a terminal with a width, else a progress that prints nothing. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  // A terminal that reports no width (e.g. a pty nobody sized) makes ora's line
  // arithmetic clear lines without end; such a terminal gets no spinner either.
  if (!stream.isTTY || !(stream.columns > 0)) {
    return { update() {}, succeed() {}, fail() {}, clear() {} };
  }
  const ora = loadOra();
  let spinner: Ora | undefined;
  return {
    update(text) {
      if (spinner) spinner.text = text;
      else spinner = ora({ text, stream, discardStdin: false }).start();
    },
    succeed(text) {
      (spinner ?? ora({ stream, discardStdin: false })).succeed(text);
      spinner = undefined;
    },
    fail(text) {
      (spinner ?? ora({ stream, discardStdin: false })).fail(text);
      spinner = undefined;
    },
    clear() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}
