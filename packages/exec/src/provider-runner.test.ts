import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FailedPreconditionError, JobState, type JobStatus } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeProviderJobRunner } from "./fixtures/fake-provider-runner.js";
import { MAX_JOINED_LINE_BYTES } from "./log-line-joiner.js";
import { ProviderRunner, providerRunnerFor, RunDetachedError } from "./provider-runner.js";
import type { LogLine } from "./sandbox-runner.js";

describe("ProviderRunner (provider-ephemeral)", () => {
  let fake: FakeProviderJobRunner;
  let runner: ProviderRunner;

  beforeEach(() => {
    fake = new FakeProviderJobRunner("aws");
    runner = new ProviderRunner({
      providerName: "aws",
      runner: fake,
      pollIntervalMs: 20,
      retryPolicy: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
    });
  });
  afterEach(() => fake.close());

  it("sends a JobSpec with unresolved secret references and an idempotency key, and returns the job's exit code", async () => {
    fake.secrets.set("secret://db/password", "pa55-provider-side");
    const lines: LogLine[] = [];
    const result = await runner.run(
      {
        image: "ghcr.io/acme/job:1",
        // Checks the value without spelling it out, so the spec the host sends cannot contain it by accident.
        command: ["sh", "-c", 'case "$PW" in pa55-*-side) echo resolved;; esac; exit 7'],
        secretEnv: { PW: "secret://db/password" },
        jobIdentity: { jobId: "migrate" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 7, reason: "exited", runName: "job-1" });
    expect(lines).toEqual([{ stream: "stdout", text: "resolved" }]);
    const spec = JSON.parse(fake.requests[0] ?? "{}").spec;
    expect(spec.secretEnv).toEqual({ PW: "secret://db/password" });
    expect(spec.idempotencyKey).toMatch(/^[0-9a-f]{32}$/);
    expect(fake.requests[0]).not.toContain("pa55-provider-side");
  });

  it("a RunJob retried after a lost response starts exactly one job", async () => {
    fake.loseRunJobResponses = 1;
    const result = await runner.run({ command: ["sh", "-c", "echo once"], jobIdentity: { jobId: "lost" } });
    expect(result).toMatchObject({ exitCode: 0, reused: true });
    expect(fake.jobsStarted).toBe(1);
    expect(fake.requests).toHaveLength(2);
  });

  it("stops the job when following it fails for good, instead of leaving it running unwatched", async () => {
    const cancelled: string[] = [];
    class LostProvider extends FakeProviderJobRunner {
      override async batchJobStatus(): Promise<never> {
        throw new FailedPreconditionError('plugin "aws" is in a crash loop; BatchJobStatus was not sent');
      }
      override async jobStatus(): Promise<never> {
        throw new FailedPreconditionError('plugin "aws" is in a crash loop; JobStatus was not sent');
      }
      override async cancelJob(...args: Parameters<FakeProviderJobRunner["cancelJob"]>) {
        cancelled.push(args[0].handle?.jobId ?? "");
        return super.cancelJob(...args);
      }
    }
    const lost = new LostProvider("aws");
    try {
      const lostRunner = new ProviderRunner({ providerName: "aws", runner: lost, pollIntervalMs: 20 });
      await expect(
        lostRunner.run({ command: ["sh", "-c", "sleep 30"], jobIdentity: { jobId: "unwatched" } }),
      ).rejects.toThrow(/crash loop/);
      expect(cancelled).toEqual(["job-1"]);
    } finally {
      lost.close();
    }
  });

  it("turns a failed log stream into a warning line, not a failed job", async () => {
    fake.failLogs = true;
    const lines: LogLine[] = [];
    const result = await runner.run(
      { command: ["true"], jobIdentity: { jobId: "no-logs" } },
      { onLog: (l) => lines.push(l) },
    );
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([
      {
        stream: "system",
        text: expect.stringMatching(/^warning: could not fetch the log of job job-1 from provider "aws"/),
      },
    ]);
  });

  it("resumes a broken log stream after the last line received, using its cursor: no line lost or repeated", async () => {
    fake.breakLogStreamAfter = 2;
    const lines: LogLine[] = [];
    const result = await runner.run(
      {
        command: ["sh", "-c", "for i in 1 2 3 4; do echo line-$i; sleep 0.05; done"],
        jobIdentity: { jobId: "resume" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(result.exitCode).toBe(0);
    expect(lines.map((l) => l.text)).toEqual(["line-1", "line-2", "line-3", "line-4"]);
    expect(fake.logCursors).toEqual(["", "2"]);
  });

  it("joins the pieces of a long line (LogLine.continues) into the line the job wrote", async () => {
    fake.pieceChars = 1000;
    const lines: LogLine[] = [];
    const result = await runner.run(
      {
        command: ["sh", "-c", "head -c 5500 /dev/zero | tr '\\0' a; echo; echo short"],
        jobIdentity: { jobId: "join" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([
      { stream: "stdout", text: "a".repeat(5500) },
      { stream: "stdout", text: "short" },
    ]);
  });

  it("passes a line longer than MAX_JOINED_LINE_BYTES on in flagged pieces as they come, holding none of it whole", async () => {
    fake.pieceChars = 64 * 1024;
    const size = MAX_JOINED_LINE_BYTES * 2 + 12_345;
    const lines: LogLine[] = [];
    await runner.run(
      {
        command: ["sh", "-c", `head -c ${size} /dev/zero | tr '\\0' b; echo; echo next`],
        jobIdentity: { jobId: "long" },
      },
      { onLog: (line) => lines.push(line) },
    );
    const pieces = lines.slice(0, -1);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.slice(0, -1).every((l) => l.continues === true)).toBe(true);
    expect(pieces.at(-1)?.continues).toBeUndefined();
    for (const piece of pieces) expect(piece.text.length).toBeLessThanOrEqual(MAX_JOINED_LINE_BYTES);
    expect(pieces.map((l) => l.text).join("")).toBe("b".repeat(size));
    expect(lines.at(-1)).toEqual({ stream: "stdout", text: "next" });
  });

  it("waits for onLog's promise before the next line, and reads a finished job's log to its end while lines keep coming", async () => {
    const slow = new ProviderRunner({ providerName: "aws", runner: fake, pollIntervalMs: 20, logDrainIdleMs: 200 });
    const texts: string[] = [];
    let busy = false;
    let overlapped = false;
    const result = await slow.run(
      { command: ["seq", "1", "3000"], jobIdentity: { jobId: "slow-reader" } },
      {
        onLog: async (line) => {
          if (busy) overlapped = true;
          busy = true;
          // A reader slower than the job: draining the log takes far longer than logDrainIdleMs in all.
          await new Promise((resolve) => setTimeout(resolve, 1));
          texts.push(line.text);
          busy = false;
        },
      },
    );
    expect(result.exitCode).toBe(0);
    expect(overlapped).toBe(false);
    expect(texts).toEqual(Array.from({ length: 3000 }, (_, i) => String(i + 1)));
  });

  it("stops reading a log stream that stays open after the job finished, with a warning", async () => {
    fake.logsNeverEnd = true;
    const lines: LogLine[] = [];
    const result = await runner.run(
      { command: ["sh", "-c", "echo out; exit 3"], jobIdentity: { jobId: "open-log" } },
      {
        onLog: (line) => lines.push(line),
      },
    );
    expect(result.exitCode).toBe(3);
    expect(lines).toEqual([
      { stream: "stdout", text: "out" },
      {
        stream: "system",
        text: expect.stringMatching(/^warning: the log of job job-1 did not end 10 s after it finished/),
      },
    ]);
  });

  // The old runner returned the provider's exit code as it was: a FAILED job with exit code 0 "succeeded".
  it("never ends a job the provider reports FAILED with exit code 0: exit 1, with the reason", async () => {
    fake.finishedStatus = { state: JobState.FAILED, exitCode: 0, reason: "Essential container in task exited" };
    const result = await runner.run({ command: ["true"], jobIdentity: { jobId: "failed-zero" } });
    expect(result).toMatchObject({
      exitCode: 1,
      reason: "failed",
      message: "the provider reports the job FAILED although its exit code is 0: Essential container in task exited",
      status: { state: JobState.FAILED, exitCode: 0 },
    });
  });

  it("retries JobStatus that fails with Unavailable (a restarting plugin) and reports every status it polls", async () => {
    fake.failStatusCalls = 3;
    const states: JobState[] = [];
    const result = await runner.run(
      { command: ["sh", "-c", "sleep 0.2; exit 4"], jobIdentity: { jobId: "status-retry" } },
      { onStatus: (status: JobStatus) => states.push(status.state) },
    );
    expect(result).toMatchObject({ exitCode: 4, reason: "exited" });
    expect(fake.failStatusCalls).toBe(0);
    expect(states.at(-1)).toBe(JobState.FAILED);
  });

  it("tells the caller the job's handle as soon as RunJob answered, once", async () => {
    const started: string[] = [];
    const result = await runner.run(
      { command: ["true"], jobIdentity: { jobId: "handle" }, jobName: "db-migrate" },
      { onJobStarted: (handle, deduplicated) => started.push(`${handle.provider}:${handle.jobId}:${deduplicated}`) },
    );
    expect(started).toEqual(["aws:job-1:false"]);
    expect(result.handle?.jobId).toBe("job-1");
    expect(JSON.parse(fake.requests[0] ?? "{}").spec.name).toBe("db-migrate");
  });

  // The old runner could resume only from a cursor: a stream that broke before its first line became a warning.
  it("resumes a log stream that broke before its first line from the start", async () => {
    fake.breakLogStreamAfter = 0;
    const lines: LogLine[] = [];
    const result = await runner.run(
      { command: ["sh", "-c", "sleep 0.1; echo only-line"], jobIdentity: { jobId: "resume-early" } },
      { onLog: (line) => lines.push(line) },
    );
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([{ stream: "stdout", text: "only-line" }]);
    expect(fake.logCursors).toEqual(["", ""]);
  });

  // The old runner sent CancelJob and returned at once: the job still ran, and its last lines were lost.
  it("on cancel, sends CancelJob and follows the job, log included, until it has stopped", async () => {
    fake.cancelDelayMs = 300;
    const controller = new AbortController();
    const lines: string[] = [];
    const result = await runner.run(
      {
        command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.05; done"],
        jobIdentity: { jobId: "cancel-wait" },
      },
      {
        signal: controller.signal,
        onLog: (line) => {
          lines.push(line.text);
          if (line.text === "tick-2") controller.abort();
        },
      },
    );
    expect(result).toMatchObject({ reason: "cancelled", exitCode: 130, status: { state: JobState.CANCELLED } });
    expect(fake.runningJobs()).toEqual([]);
    // Lines the job wrote while it was being stopped arrived too.
    expect(lines.length).toBeGreaterThan(4);
  });

  it("a job that does not stop after CancelJob is given up on after stopWaitMs, with a warning", async () => {
    fake.cancelDelayMs = 5_000;
    const slow = new ProviderRunner({ providerName: "aws", runner: fake, pollIntervalMs: 20, stopWaitMs: 200 });
    const lines: LogLine[] = [];
    const result = await slow.run(
      { command: ["sh", "-c", "echo started; sleep 30"], jobIdentity: { jobId: "no-stop" } },
      { signal: AbortSignal.timeout(300), onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ reason: "cancelled", exitCode: 130 });
    expect(result.status).toBeUndefined();
    expect(lines.at(-1)?.text).toMatch(/^warning: job job-1 on provider "aws" did not stop within 0.2 s of CancelJob/);
  });

  it("with joinLines false, passes the provider's pieces as sent, each with its cursor", async () => {
    fake.pieceChars = 1000;
    const lines: LogLine[] = [];
    await runner.run(
      { command: ["sh", "-c", "head -c 2500 /dev/zero | tr '\\0' a; echo; echo short"], jobIdentity: { jobId: "raw" } },
      { joinLines: false, onLog: (line) => lines.push(line) },
    );
    expect(lines).toEqual([
      { stream: "stdout", text: "a".repeat(1000), continues: true, cursor: "1" },
      { stream: "stdout", text: "a".repeat(1000), continues: true, cursor: "2" },
      { stream: "stdout", text: "a".repeat(500), cursor: "3" },
      { stream: "stdout", text: "short", cursor: "4" },
    ]);
  });

  it("detach stops following without cancelling the job; resume from the last cursor gets the rest, none twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-resume-"));
    try {
      const release = join(dir, "release");
      const request = {
        command: [
          "sh",
          "-c",
          `echo line-1; echo line-2; while [ ! -e ${release} ]; do sleep 0.02; done; echo line-3; exit 5`,
        ],
        jobIdentity: { jobId: "detach" },
      };
      const first: LogLine[] = [];
      const detach = new AbortController();
      const detached = await runner
        .run(request, {
          joinLines: false,
          detach: detach.signal,
          onLog: (line) => {
            first.push(line);
            if (line.text === "line-2") detach.abort();
          },
        })
        .catch((error: unknown) => error);
      expect(detached).toBeInstanceOf(RunDetachedError);
      const handle = (detached as RunDetachedError).handle;
      expect(handle?.jobId).toBe("job-1");
      // Not cancelled: the job still runs, waiting for its release.
      expect(fake.runningJobs()).toEqual(["job-1"]);
      expect(existsSync(release)).toBe(false);

      writeFileSync(release, "");
      const rest: LogLine[] = [];
      const result = await runner.run(request, {
        joinLines: false,
        resume: { handle: handle as NonNullable<typeof handle>, logCursor: first.at(-1)?.cursor ?? "" },
        onLog: (line) => rest.push(line),
      });
      expect(result).toMatchObject({ exitCode: 5, reused: true, status: { state: JobState.FAILED } });
      expect([...first, ...rest].map((line) => line.text)).toEqual(["line-1", "line-2", "line-3"]);
      expect(fake.jobsStarted).toBe(1);
      expect(fake.logCursors).toEqual(["", "2"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the provider and the providers that can run jobs when the resolved one cannot", () => {
    const directory = {
      providerNames: () => ["aws", "gcp", "regions-only"],
      runnerOf: (name: string) => (name === "regions-only" ? undefined : fake),
    };
    expect(() => providerRunnerFor(directory, "regions-only")).toThrow(
      'provider-ephemeral: provider "regions-only" does not advertise IaCProviderRunner, so it cannot run jobs; providers that do: aws, gcp',
    );
    expect(() => providerRunnerFor(directory, "azure")).toThrow(
      'provider "azure" is not configured; configured providers: aws, gcp, regions-only',
    );
    expect(providerRunnerFor(directory, "gcp")).toBeInstanceOf(ProviderRunner);
  });
});
