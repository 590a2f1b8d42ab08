// The hello provider plugin: a runner whose jobs greet, and one region.
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { InvalidArgumentError, type JobHandle, jobTimeoutMs, NotFoundError, serve } from "@flotilla/plugin-sdk";
import { type Greeting, isFinished, startGreeting, stopGreeting } from "./greetings.js";

const jobs = new Map<string, Greeting>();
// The job each idempotency key started, so a retried runJob starts no second one.
const jobByKey = new Map<string, string>();

function wholeNumber(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${field}: must be an integer`);
  return n;
}

function find(handle: JobHandle | undefined): Greeting {
  const job = jobs.get(handle?.jobId ?? "");
  if (!job) throw new NotFoundError(`job ${handle?.jobId} is not known to the hello provider`);
  return job;
}

function statusOf(handle: JobHandle, job: Greeting) {
  return { handle, state: job.state, exitCode: job.exitCode, reason: job.reason };
}

await serve({
  name: "hello",
  version: "1.0.0",
  provider: {
    // hello has no settings, but a config that is not a JSON object is a mistake worth naming.
    configure({ configJson }) {
      const text = new TextDecoder().decode(configJson) || "{}";
      let config: unknown;
      try {
        config = JSON.parse(text);
      } catch {}
      if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new InvalidArgumentError("config: must be a JSON object; hello takes no settings, so {} will do");
      }
      return {};
    },
  },
  runner: {
    runJob({ spec }) {
      const names = [...(spec?.command ?? []), ...(spec?.args ?? [])];
      if (names.length === 0) {
        throw new InvalidArgumentError('spec.command: give at least one name to greet, e.g. ["world"]');
      }
      const exitCode = wholeNumber(spec?.env.EXIT_CODE ?? "0", "spec.env.EXIT_CODE");
      const rounds = wholeNumber(spec?.env.ROUNDS ?? "1", "spec.env.ROUNDS");
      // Greetings end by themselves, so hello needs no time limit; a negative one is still an error.
      jobTimeoutMs(spec?.timeout, "spec.timeout");
      const key = spec?.idempotencyKey ?? "";
      const known = jobByKey.get(key);
      if (known) return { handle: { provider: "hello", jobId: known }, deduplicated: true };
      const jobId = randomUUID();
      jobs.set(jobId, startGreeting(names, rounds, exitCode));
      if (key) jobByKey.set(key, jobId);
      return { handle: { provider: "hello", jobId } };
    },
    jobStatus({ handle }) {
      return { status: statusOf(handle as JobHandle, find(handle)) };
    },
    batchJobStatus({ handles }) {
      return {
        results: handles.map((handle) => {
          const job = jobs.get(handle.jobId);
          return job
            ? { handle, result: { case: "status" as const, value: statusOf(handle, job) } }
            : { handle, result: { case: "error" as const, value: { code: "NOT_FOUND", message: "unknown job" } } };
        }),
      };
    },
    // The cursor of a line is its position in the log: "1" after the first line.
    async *jobLogs({ handle, follow, cursor }, { signal }) {
      const job = find(handle);
      let sent = Number(cursor || "0");
      for (;;) {
        const lines = job.lines.slice(sent).map((line, i) => ({ ...line, cursor: String(sent + i + 1) }));
        sent += lines.length;
        if (lines.length > 0) yield { lines };
        if (!follow || (isFinished(job) && sent === job.lines.length)) return;
        await once(job.changed, "change", { signal });
      }
    },
    cancelJob({ handle, reason }) {
      const job = find(handle);
      stopGreeting(job, reason || "cancelled");
      return { status: statusOf(handle as JobHandle, job) };
    },
  },
  // What `flotilla plugin test` runs to check the runner: a quick job, and one that greets for 10 minutes.
  conformanceJobs: {
    quick: { command: ["world", "moon"] },
    longRunning: { command: ["world"], env: { ROUNDS: "3000" } },
  },
  regionLister: {
    listRegions: () => ({ regions: [{ id: "hello-1", displayName: "Hello One", available: true }] }),
  },
});
