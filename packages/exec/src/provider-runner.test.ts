import { FailedPreconditionError } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeProviderJobRunner } from "./fixtures/fake-provider-runner.js";
import { ProviderRunner, providerRunnerFor } from "./provider-runner.js";
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
