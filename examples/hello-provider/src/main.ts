// The hello provider plugin: a runner whose jobs greet, and one region.
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { defineConfig, InvalidArgumentError, type JobHandle, NotFoundError, serve } from "@flotilla/plugin-sdk";
import { type Greeting, isFinished, startGreeting, stopGreeting } from "./greetings.js";

// The provider config, declared once as JSON Schema: published in the registry,
// checked by Configure, and typed in every handler as `context.config`.
const helloConfig = defineConfig({
  what: "hello provider config",
  schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      greeting: { type: "string", minLength: 1, default: "hello", description: "what a job says to each name" },
    },
  },
});

const jobs = new Map<string, Greeting>();

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
  config: helloConfig,
  runner: {
    runJob({ spec }, { config }) {
      const names = [...(spec?.command ?? []), ...(spec?.args ?? [])];
      if (names.length === 0) {
        throw new InvalidArgumentError('spec.command: give at least one name to greet, e.g. ["world"]');
      }
      const exitCode = Number(spec?.env.EXIT_CODE ?? "0");
      if (!Number.isInteger(exitCode)) {
        throw new InvalidArgumentError("spec.env.EXIT_CODE: must be an integer");
      }
      const jobId = randomUUID();
      jobs.set(jobId, startGreeting(names, exitCode, config.greeting));
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
  regionLister: {
    listRegions: () => ({ regions: [{ id: "hello-1", displayName: "Hello One", available: true }] }),
  },
});
