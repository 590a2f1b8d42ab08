/**
 * What the conformance suite's check groups share (conformance.ts runs them): how a check is recorded,
 * how a check says it does not apply, and the small readers every group needs. Internal to the kit.
 */
import { codeName, isFlotillaError, type JobHandle, JobState, type LogLine } from "@flotilla/protocol";
import type { PluginClient } from "./plugin-client.js";
import { PluginSpawnError } from "./spawn-plugin.js";

/** Thrown by a check that does not apply, with the reason. */
export class NotApplicable extends Error {}

/** Runs one named check: its result is the detail of a pass; a throw fails it (or skips it: {@link NotApplicable}). */
export type RecordCheck = (name: string, run: () => Promise<string>) => Promise<boolean>;

/** The runner client the job checks use. */
export type RunnerClient = PluginClient<typeof import("@flotilla/protocol").IaCProviderRunnerService>;

/** Every line of a job's log from `cursor`, following the job when `follow` is set. */
export async function readLog(
  runner: RunnerClient,
  handle: JobHandle,
  cursor: string,
  follow: boolean,
  options: { deadline?: number; signal?: AbortSignal; lines?: LogLine[] } = {},
): Promise<LogLine[]> {
  const lines = options.lines ?? [];
  const callOptions = {
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  for await (const page of runner.serverStream("jobLogs", { handle, cursor, follow }, callOptions)) {
    lines.push(...page.lines);
  }
  return lines;
}

/** True for the states a job does not leave. */
export function isTerminal(state: JobState): boolean {
  return [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN].includes(state);
}

/** The outcome of a call that should fail: the error, or undefined when it answered. */
export function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A call's error as a report says it: the status code name and the plugin's message. */
export function codeOf(error: unknown): string {
  return isFlotillaError(error) ? `${codeName(error.code)} (${error.message})` : String(error);
}

/** An error as one line; a plugin that failed to start keeps the last lines of its stderr, which say why. */
export function describeError(error: unknown): string {
  if (error instanceof PluginSpawnError) {
    const tail = error.stderr.trim().split("\n").slice(-5).join(" | ");
    const summary = error.message.split("\n--- plugin stderr ---")[0] ?? error.message;
    return tail ? `${summary}; its stderr ended: ${tail}` : summary;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Waits `ms`, without keeping the process alive for it. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Polls `done` every 100 ms until it is true (resolves true) or `ms` passed (resolves false). */
export async function waitFor(done: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= until) return false;
    await sleep(100);
  }
}

/** Milliseconds as a report says them: "10 s", "1.5 s", "200 ms". */
export function duration(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}
