// The "cloud" behind the hello provider: a job greets each of its arguments,
// one line every 200 ms, then exits with the code in its EXIT_CODE variable.
import { EventEmitter } from "node:events";
import { JobState, LogStream } from "@flotilla/plugin-sdk";

/** One greeting job: its state, exit code, log lines, and an emitter that fires on every change. */
export interface Greeting {
  state: JobState;
  exitCode?: number;
  reason: string;
  lines: { stream: LogStream; text: string }[];
  changed: EventEmitter;
  timer?: NodeJS.Timeout;
}

/** Starts a job that says `greeting` to each of `names`, then exits with `exitCode`. */
export function startGreeting(names: string[], exitCode: number, greeting: string): Greeting {
  const job: Greeting = { state: JobState.RUNNING, reason: "", lines: [], changed: new EventEmitter() };
  let next = 0;
  job.timer = setInterval(() => {
    if (next < names.length) {
      job.lines.push({ stream: LogStream.STDOUT, text: `${greeting}, ${names[next++]}` });
    } else {
      clearInterval(job.timer);
      job.exitCode = exitCode;
      job.state = exitCode === 0 ? JobState.SUCCEEDED : JobState.FAILED;
      if (exitCode !== 0) job.reason = `exited with code ${exitCode}`;
    }
    job.changed.emit("change");
  }, 200);
  return job;
}

/** Cancels a running job. */
export function stopGreeting(job: Greeting, reason: string): void {
  if (job.state !== JobState.RUNNING) return;
  clearInterval(job.timer);
  job.state = JobState.CANCELLED;
  job.reason = reason;
  job.lines.push({ stream: LogStream.SYSTEM, text: `cancelled: ${reason}` });
  job.changed.emit("change");
}

/** True once the job stopped running. */
export function isFinished(job: Greeting): boolean {
  return job.state !== JobState.RUNNING;
}
